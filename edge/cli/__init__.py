"""The ``parcel-edge`` command: one module per command, listed here explicitly.

Each command module exposes ``add_arguments(parser)`` and ``main(args) -> int``
and is imported only when its command runs, so ``parcel-edge identify`` does
not pay for onnxruntime.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("edge.cli.run", "run the unit (what systemd starts)"),
    "demo": ("edge.cli.demo", "a synthetic conveyor through the whole path, no hardware or broker"),
    "bench": ("edge.cli.bench", "throughput and per-stage timings on the synthetic conveyor"),
    "config": ("edge.cli.config", "validate a config file"),
    "synth": ("edge.cli.synth", "write a labelled synthetic dataset"),
    "decode": ("edge.cli.decode", "decode barcodes in images"),
    "identify": ("edge.cli.identify", "identify and validate reference numbers"),
    "classify": ("edge.cli.classify", "run the logo and packaging classifier on images"),
    "inspect": ("edge.cli.inspect", "check images against the photographic standard"),
    "process": ("edge.cli.process", "the whole path on image files"),
    "alerts": ("edge.cli.alerts", "an officer's live console of alerts"),
    "receive": ("edge.cli.receive", "reference receiver for central systems"),
    "model": ("edge.cli.model", "signed model and catalogue updates: keygen, sign, verify, "
              "publish, install, status, rollback, promote"),
    "hub": ("edge.cli.hub", "the central hub: ingest, store, officers' web app, audit"),
}


def _version() -> str:
    from edge import __version__

    return f"parcel-edge {__version__} (python {sys.version.split()[0]})"


def _parser(argv: list[str]) -> tuple[argparse.ArgumentParser, str | None]:
    parser = argparse.ArgumentParser(prog="parcel-edge", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=_version())
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if a in COMMANDS), None)
    for name, (module, help_text) in COMMANDS.items():
        sub = subs.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            importlib.import_module(module).add_arguments(sub)
    return parser, chosen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, chosen = _parser(argv)
    args = parser.parse_args(argv)
    if chosen is None or args.command is None:
        parser.print_help(sys.stderr)
        return 2
    from edge.logs import setup_logging

    setup_logging(args.verbose)
    try:
        return int(importlib.import_module(COMMANDS[chosen][0]).main(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
