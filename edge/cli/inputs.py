"""How commands read what they are given: a unit config (or the defaults) and image files.

Every command that takes images goes over them the same way: a file that
cannot be used gets one line on stderr and the rest still run.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable


def unit_config(path: str | Path | None) -> Any:
    """The config at ``path``, the built-in defaults without one, None (errors printed) if invalid."""
    from edge.config import ConfigError, EdgeConfig, load_config

    try:
        return load_config(path) if path else EdgeConfig()
    except ConfigError as exc:
        print("\n".join(exc.lines), file=sys.stderr)
        return None


def each_image(paths: Iterable[str], verb: str, work: Callable[[str], dict[str, Any]],
               as_json: bool, print_text: Callable[[dict[str, Any]], None]) -> int:
    """Run ``work`` on each path and print its result; 2 if any file could not be used, else 0."""
    from edge.imageio import ImageError

    status = 0
    for path in paths:
        try:
            result = work(path)
        except (ImageError, OSError, ValueError) as exc:
            print(f"{path}: cannot {verb}: {exc}".replace("\n", " "), file=sys.stderr)
            status = 2
            continue
        if as_json:
            print(json.dumps(result, ensure_ascii=True), flush=True)
        else:
            print_text(result)
    return status
