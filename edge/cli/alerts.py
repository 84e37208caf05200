"""``parcel-edge alerts``: an officer's live console of flagged parcels."""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from edge.receive.alerts import AlertConsole, printer
from edge.receive.subscriber import add_broker_arguments, listen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_broker_arguments(parser, client_id="parcel-edge-alerts")
    parser.add_argument("--save", type=Path, default=Path("alerts"),
                        help="folder for the flagged parcels' images (default ./alerts)")
    parser.add_argument("--json", action="store_true", help="one JSON object per event")
    parser.add_argument("--count", type=int, default=0,
                        help="exit once this many alerts and their images have arrived")
    parser.add_argument("--timeout", type=float, default=0.0, help="exit after this many seconds")


def main(args: argparse.Namespace) -> int:
    done = threading.Event()
    console = AlertConsole(args.save, printer(sys.stdout, args.json))

    def on_message(topic: str, payload: bytes, props: object) -> None:
        console.handle(topic, payload, props)
        if args.count and console.alert_count >= args.count and console.settled():
            done.set()

    listen(args, on_message, done)
    if args.count and console.alert_count < args.count:
        print(f"alerts: only {console.alert_count} of {args.count} alerts arrived", file=sys.stderr)
        return 1
    return 0
