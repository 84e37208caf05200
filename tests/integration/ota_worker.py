"""An update install in a real process, killed with SIGKILL at one named step.

Usage: ota_worker.py CONFIG BUNDLE STEP
Prints ``step <name>`` as each install step completes; at STEP the process
kills itself, as a power cut would stop it.  STEP ``none`` runs to the end.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from edge.config import load_config
from edge.update import build_updater


def main() -> int:
    cfg, bundle, target = load_config(sys.argv[1]), sys.argv[2], sys.argv[3]

    def on_step(step: str) -> None:
        print(f"step {step}", flush=True)
        if step == target:
            os.kill(os.getpid(), signal.SIGKILL)

    updater = build_updater(cfg, with_link=False, on_step=on_step)
    updater.manager.start()
    status = updater.manager.command("install-local", {"bundle": str(Path(bundle).resolve())})
    updater.close()
    print(f"result {status['last']['result']}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
