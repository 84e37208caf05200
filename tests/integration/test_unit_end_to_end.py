"""The whole unit as a person runs it: the demo, and `run` under systemd-like signals."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 240, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout, **kw)


def test_demo_runs_the_whole_path_and_writes_packages(tmp_path: Path) -> None:
    proc = cli("demo", "--parcels", "8", "--seed", "3", "--out", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["parcels"] == 8
    assert summary["read"] >= 6
    sidecars = sorted((tmp_path / "packages").rglob("*.json"))
    assert len(sidecars) == 8
    record = json.loads(sidecars[0].read_text())
    assert record["schema"].startswith("parcel-edge/parcel/")
    assert {img["view"] for img in record["images"]} >= {"parcel"}
    for stage in ("decode", "quality", "classify", "package", "commit"):
        assert stage in summary["timings_ms"]


def test_demo_prints_a_summary_table(tmp_path: Path) -> None:
    proc = cli("demo", "--parcels", "2", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "parcels seen" in proc.stdout and "decode ms" in proc.stdout
    assert "parcels 2/2" in proc.stderr


def write_config(tmp_path: Path, camera: str) -> Path:
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(f"unit:\n  id: t1\n  data_dir: {tmp_path / 'data'}\n{camera}"
                   "trigger:\n  type: interval\n")
    return cfg


def test_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i}.png"), np.full((480, 640, 3), 60 * i, np.uint8))
    cfg = write_config(tmp_path, f"camera:\n  type: replay\n  path: {frames}\n  fps: 20\n"
                                 "  loop: true\n")
    proc = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(cfg)],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "running" in err


def test_run_refuses_a_bad_config_with_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("unit:\n  id: t1\ncamera:\n  type: replay\n  speed: 3\n")
    proc = cli("run", "--config", str(cfg), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{cfg}:5: camera.speed: unknown key"


def test_run_exits_non_zero_when_the_camera_is_absent(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, "camera:\n  type: opencv\n  source: 63\n  retries: 0\n"
                                 "pipeline:\n  camera_retries: 0\n")
    proc = cli("run", "--config", str(cfg), timeout=60, env={**os.environ, "OPENCV_LOG_LEVEL": "OFF"})
    assert proc.returncode == 1
    assert "camera" in proc.stderr.splitlines()[-1]
