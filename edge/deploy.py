"""What a unit that runs for real needs beyond a file that validates.

A config can be valid and still useless on a belt: an empty file (every
default: a synthetic camera, no broker) validates, and so does a file whose
``mqtt`` section is missing, which makes a unit that photographs parcels and
tells nobody.  ``config check`` and ``run`` refuse those unless the file says
``unit.demo: true``, and name the files the unit will need but cannot read.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def deployment_problems(cfg: Any, text: str, source: str) -> list[str]:
    """One line per reason this config would not make a working unit (empty: fine)."""
    if _empty(text):
        return [f"{source}: the file is empty: a unit needs at least camera, trigger and mqtt "
                "(start from config/pi.yaml)"]
    problems = []
    if not cfg.unit.demo:
        if cfg.camera.type == "synthetic":
            problems.append(f"{source}: camera.type: synthetic makes fake parcels; use a real "
                            "camera, or set unit.demo: true for a demonstration")
        if cfg.mqtt is None:
            problems.append(f"{source}: mqtt: missing, so nothing would be delivered; add the "
                            "broker, or set unit.demo: true for a demonstration")
    problems += [f"{source}: {key}: {path} {why}" for key, path, why in _unreadable(cfg)]
    return problems


def _empty(text: str) -> bool:
    """Nothing but whitespace, comments or ``{}``: every value would be a default."""
    try:
        return not yaml.safe_load(text)
    except yaml.YAMLError:
        return False  # the validator has already named the line


def _unreadable(cfg: Any) -> list[tuple[str, Path, str]]:
    """Files the unit will open later, checked now so an installer hears about them first."""
    wanted: list[tuple[str, Path | None]] = []
    if cfg.mqtt is not None:
        tls = cfg.mqtt.tls
        if tls is not None:
            wanted += [("mqtt.tls.ca_file", tls.ca_file), ("mqtt.tls.cert_file", tls.cert_file),
                       ("mqtt.tls.key_file", tls.key_file)]
        wanted.append(("mqtt.password_file", cfg.mqtt.password_file))
    if cfg.classify.enabled:
        wanted.append(("classify.model_dir", cfg.classify.model_dir / "manifest.json"))
    out = []
    for key, path in wanted:
        if path is None:
            continue
        if not path.exists():
            out.append((key, path, "does not exist"))
        elif not os.access(path, os.R_OK):
            out.append((key, path, "is not readable by this user"))
    return out
