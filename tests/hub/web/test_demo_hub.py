"""``parcel-edge demo --hub`` as a person runs it: the printed address and login show the
demo's parcels to an officer."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import MOSQUITTO
from tests.hub.web.conftest import csrf_of

REPO = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_demo_hub_prints_an_address_where_the_officer_sees_the_parcels(tmp_path: Path) -> None:
    if not MOSQUITTO.exists():
        pytest.skip("mosquitto is not installed")
    log = open(tmp_path / "stderr.txt", "w")  # a file: an unread pipe would block the demo
    proc = subprocess.Popen([sys.executable, "-m", "edge", "demo", "--hub", "--parcels", "6",
                             "--seed", "1", "--out", str(tmp_path), "--serve-s", "60"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/) +\(log in as '(\w+)', password '([^']+)'\)",
                          first)
        assert match, first + _tail(tmp_path)
        url, user, password = match.groups()
        while "delivered" not in (line := proc.stdout.readline()):
            assert line, _tail(tmp_path)
        assert "delivered 6 parcels" in line
        with httpx.Client(base_url=url) as client:
            client.post("/login", data={"username": user, "password": password,
                                        "csrf": csrf_of(client.get("/login").text)})
            deadline = time.monotonic() + 30  # the broker has them; the hub stores them next
            while (seen := client.get("/search", params={"unit": "demo-01"}).text
                   .count("<tr data-parcel=")) < 6 and time.monotonic() < deadline:
                time.sleep(0.3)
            assert seen == 6
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert proc.returncode == 0


def _tail(tmp_path: Path) -> str:
    return (tmp_path / "stderr.txt").read_text()[-2000:]
