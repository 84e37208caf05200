"""``parcel-edge receive --out DIR``: reference receiver storing records and images once."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from edge.receive.receiver import Receiver
from edge.receive.subscriber import add_broker_arguments, listen

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_broker_arguments(parser, client_id="parcel-edge-receiver")
    parser.add_argument("--out", type=Path, required=True, help="folder for records, images, received.db")
    parser.add_argument("--json", action="store_true", help="one JSON object per stored message")
    parser.add_argument("--timeout", type=float, default=0.0, help="exit after this many seconds")


def main(args: argparse.Namespace) -> int:
    try:
        receiver = Receiver(args.out)
    except OSError as exc:
        print(f"receive: cannot use {args.out}: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def on_message(topic: str, payload: bytes, props: object) -> None:
        stored = receiver.handle(topic, payload, props)
        if stored is not None and args.json:
            print(json.dumps(stored.__dict__, sort_keys=True), flush=True)

    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        listen(args, on_message, done)
    finally:
        log.info("receive: %s", dict(receiver.counts))
        receiver.close()
    return 0
