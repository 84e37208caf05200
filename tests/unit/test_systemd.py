"""The unit file and the installer, checked as an installer and systemd would see them."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "parcel-edge.service"
INSTALL = REPO / "systemd" / "install.sh"


def unit_lines() -> list[str]:
    return [ln.strip() for ln in UNIT.read_text().splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_is_rated_2_or_lower_by_systemd_analyze_security() -> None:
    proc = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(UNIT)],
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for parcel-edge\.service: (\d+\.\d+)", proc.stdout)
    assert found, proc.stdout + proc.stderr
    assert float(found.group(1)) <= 2.0, proc.stdout


def test_unit_keeps_camera_and_gpio_reachable_behind_a_closed_device_policy() -> None:
    lines = unit_lines()
    assert "DevicePolicy=closed" in lines
    allowed = {ln.split("=", 1)[1].split()[0] for ln in lines if ln.startswith("DeviceAllow=")}
    # /dev/video* and v4l-subdev, /dev/media*, /dev/dma_heap/*, /dev/gpiochip*, /dev/vchiq
    assert {"char-video4linux", "char-media", "char-dma_heap", "char-gpiochip",
            "char-vchiq"} <= allowed
    assert "PrivateDevices=yes" not in lines, "a private /dev hides the camera"
    assert "SupplementaryGroups=video gpio" in lines


def test_unit_waits_for_time_sync_restarts_forever_and_notifies() -> None:
    lines = unit_lines()
    after = " ".join(ln for ln in lines if ln.startswith("After="))
    wants = " ".join(ln for ln in lines if ln.startswith("Wants="))
    assert "time-sync.target" in after and "time-sync.target" in wants
    assert "StartLimitIntervalSec=0" in lines, "a camera absent at boot must not leave it failed"
    assert "Restart=always" in lines and "Type=notify" in lines
    assert any(ln.startswith("WatchdogSec=") for ln in lines)
    assert "systemctl enable systemd-time-wait-sync.service" in INSTALL.read_text()


def dry_run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PARCEL_EDGE_DEST": str(tmp_path / "opt"),
            "PARCEL_EDGE_ETC": str(tmp_path / "etc"), **env}
    return subprocess.run(["bash", str(INSTALL), "--dry-run"], capture_output=True, text=True,
                          env=full, timeout=60)


def test_install_dry_run_prints_every_step_and_changes_nothing(tmp_path: Path) -> None:
    first = dry_run(tmp_path)
    assert first.returncode == 0, first.stderr
    steps = [ln[2:] for ln in first.stdout.splitlines() if ln.startswith("+ ")]
    text = "\n".join(steps)
    assert re.search(r"rsync -a --delete .* " + re.escape(str(tmp_path / "opt")), text)
    assert f"config/pi.yaml {tmp_path / 'etc'}/edge.yaml" in text, "a fresh install gets pi.yaml"
    assert "edge.example.yaml" not in text
    assert "config check" in text
    assert steps[-1] == "systemctl restart parcel-edge.service", "an update restarts the unit"
    assert not (tmp_path / "opt").exists() and not (tmp_path / "etc").exists()
    second = dry_run(tmp_path)
    assert second.stdout == first.stdout, "the same state gives the same plan"


def test_install_keeps_an_existing_config(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "edge.yaml").write_text("unit:\n  id: mine\n")
    proc = dry_run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "edge.yaml exists: kept" in proc.stdout
    assert "pi.yaml" not in proc.stdout
    assert (tmp_path / "etc" / "edge.yaml").read_text() == "unit:\n  id: mine\n"


def test_install_refuses_unknown_arguments(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", str(INSTALL), "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown argument" in proc.stderr


def test_install_gives_the_unit_its_models_and_the_ocr_wheel_they_were_fused_for(
        tmp_path: Path) -> None:
    """A plain `pip install` would leave models/ behind, and the OCR wheel is not a dependency
    (it asks for the non-headless OpenCV): without both a Pi would run without brand checks."""
    proc = dry_run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    dest = tmp_path / "opt"
    assert f"pip install -q -e {dest}[pi]" in proc.stdout
    manifest = json.loads((REPO / "models" / "ocr" / "manifest.json").read_text())
    pin = f'{manifest["package"]}=={manifest["version"]}'
    assert f"pip install -q --no-deps {pin}" in proc.stdout
    assert f'"{pin}"' in (REPO / "scripts" / "setup.sh").read_text()
