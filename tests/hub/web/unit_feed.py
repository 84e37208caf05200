"""The real unit's messages for the web tests: the synthetic conveyor publishing over MQTT.

Seed 1 with 8 parcels gives three flags, two reviews and three clear parcels (the same path ``parcel-edge
demo --hub`` runs); the hub under test ingests them from a real mosquitto.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

UNIT_ID = "demo-01"
PARCELS = 8
SEED = 1


def run_unit(data_dir: Path, broker_port: int, parcels: int = PARCELS, seed: int = SEED) -> Any:
    """Runs the demo unit until its parcels are delivered; returns its stats."""
    from edge.demo import demo_config, with_run_overrides
    from edge.hub.demo import run_unit_over_mqtt

    cfg = with_run_overrides(demo_config(None), data_dir, parcels, seed)
    return run_unit_over_mqtt(cfg, broker_port, client_id="web-test-unit")


def wait_for(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
