"""Config: unknown keys and out-of-range numbers are errors that name the key and the line."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import ConfigError, EdgeConfig, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "unit.yaml")
    return info.value.lines


def test_empty_file_gives_pi_defaults() -> None:
    cfg = parse_config("")
    assert cfg.camera.type == "synthetic" and cfg.trigger.type == "motion"
    assert cfg.mqtt is None


def test_unknown_key_names_key_and_line() -> None:
    lines = errors_of("unit:\n  id: u1\n  colour: red\n")
    assert lines == ["unit.yaml:3: unit.colour: unknown key"]


def test_number_out_of_bounds_names_key_and_line() -> None:
    lines = errors_of("conveyor:\n  field_of_view_mm: 600\n  belt_speed_m_s: 50\n")
    assert len(lines) == 1 and lines[0].startswith("unit.yaml:3: conveyor.belt_speed_m_s:")


def test_several_errors_each_get_a_line() -> None:
    lines = errors_of("unit:\n  id: 'x/../y'\ncapture:\n  max_frames: 0\n")
    assert [line.split(":")[1] for line in lines] == ["2", "4"]


def test_unknown_backend_type_is_named() -> None:
    lines = errors_of("camera:\n  type: webcam\n")
    assert "camera" in lines[0] and "webcam" in lines[0] and lines[0].startswith("unit.yaml:2")


def test_unit_id_that_would_escape_a_topic_is_refused() -> None:
    for bad in ("a/b", "a+b", "#", "", "x" * 40):
        assert errors_of(f"unit:\n  id: '{bad}'\n")


def test_not_yaml_and_not_a_mapping() -> None:
    assert "not valid YAML" in errors_of("unit: [\n")[0]
    assert "mapping" in errors_of("- 1\n- 2\n")[0]


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert len(info.value.lines) == 1 and "cannot read config" in info.value.lines[0]


def test_exposure_cap_follows_belt_speed() -> None:
    slow = parse_config("conveyor: {belt_speed_m_s: 0.5, min_module_mm: 0.33}").conveyor
    fast = parse_config("conveyor: {belt_speed_m_s: 2.5, min_module_mm: 0.33}").conveyor
    assert slow.max_exposure_us() == 1320
    assert fast.max_exposure_us() == 264


@pytest.mark.parametrize("name", ["demo.yaml", "edge.example.yaml"])
def test_shipped_configs_validate(name: str) -> None:
    assert isinstance(load_config(REPO / "config" / name), EdgeConfig)


def test_example_documents_every_key() -> None:
    """Every key the unit accepts appears in the example an installer copies."""
    text = (REPO / "config" / "edge.example.yaml").read_text()
    missing = [key for key in _all_keys(EdgeConfig) if f"{key}:" not in text]
    assert not missing


def _all_keys(model: type) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        keys.add(name)
        ann = field.annotation
        if isinstance(ann, type) and hasattr(ann, "model_fields"):
            keys |= _all_keys(ann)
    return keys


def test_config_check_cli(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("unit:\n  id: ok\noutbox:\n  nonsense: 1\n")
    proc = subprocess.run([sys.executable, "-m", "edge", "config", "check", str(bad)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{bad}:4: outbox.nonsense: unknown key"


def test_example_config_is_generated_from_the_code() -> None:
    from edge.config_doc import render

    committed = (REPO / "config" / "edge.example.yaml").read_text()
    assert committed == render(), "run: python -m edge.config_doc config/edge.example.yaml"


def check(path: Path) -> subprocess.CompletedProcess[str]:
    """``parcel-edge config check`` in this process (the CLI itself is tested above)."""
    import contextlib
    import io

    from edge.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["config", "check", str(path)])
    return subprocess.CompletedProcess([], code, out.getvalue(), err.getvalue())


def test_config_check_refuses_an_empty_file_and_a_unit_without_a_broker(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("\n")
    proc = check(empty)
    assert proc.returncode == 1 and "the file is empty" in proc.stderr
    frames = tmp_path / "frames"
    frames.mkdir()
    silent = tmp_path / "silent.yaml"
    silent.write_text(f"camera:\n  type: replay\n  path: {frames}\n")
    proc = check(silent)
    assert proc.returncode == 1 and "mqtt: missing" in proc.stderr
    fake = tmp_path / "fake.yaml"
    fake.write_text("camera:\n  type: synthetic\nmqtt:\n  host: localhost\n")
    proc = check(fake)
    assert proc.returncode == 1 and "synthetic makes fake parcels" in proc.stderr
    demo = tmp_path / "demo.yaml"
    demo.write_text("unit:\n  demo: true\ncamera:\n  type: synthetic\n")
    assert check(demo).returncode == 0
    assert check(REPO / "config" / "demo.yaml").returncode == 0


def test_pi_config_is_a_real_unit_that_needs_its_tls_files(tmp_path: Path) -> None:
    from edge.config import load_config

    cfg = load_config(REPO / "config" / "pi.yaml")
    assert cfg.camera.type == "picamera2" and cfg.trigger.type == "photo_eye"
    assert cfg.mqtt is not None and cfg.mqtt.tls is not None and not cfg.unit.demo
    proc = check(REPO / "config" / "pi.yaml")
    assert proc.returncode == 1 and "mqtt.tls.ca_file" in proc.stderr
    etc = tmp_path / "etc"
    (etc / "tls").mkdir(parents=True)
    for name in ("ca.crt", "unit.crt", "unit.key"):
        (etc / "tls" / name).write_text("x")
    shutil.copy(REPO / "config" / "pi.yaml", etc / "edge.yaml")
    proc = check(etc / "edge.yaml")
    assert proc.returncode == 0, proc.stderr


def test_paths_resolve_against_the_config_file_not_the_working_directory(tmp_path: Path) -> None:
    from edge.config import PACKAGE_ROOT, load_config

    (tmp_path / "sub").mkdir()
    cfg_file = tmp_path / "sub" / "unit.yaml"
    cfg_file.write_text("unit:\n  data_dir: data\ncamera:\n  type: replay\n  path: ../frames\n")
    cfg = load_config(cfg_file)
    assert cfg.unit.data_dir == tmp_path / "sub" / "data"
    assert cfg.camera.path == tmp_path / "sub" / "../frames"
    assert cfg.classify.model_dir == PACKAGE_ROOT / "models" / "current"
    assert (cfg.classify.model_dir / "manifest.json").exists()


def test_config_check_says_px_per_module_and_warns_under_the_standard(tmp_path: Path) -> None:
    proc = check(REPO / "config" / "demo.yaml")
    assert proc.returncode == 0 and "2.11 px per module" in proc.stdout and not proc.stderr
    wide = tmp_path / "wide.yaml"
    wide.write_text("unit:\n  demo: true\ncamera:\n  type: synthetic\n  width: 1280\n  height: 960\n"
                    "conveyor:\n  field_of_view_mm: 250\n")
    proc = check(wide)
    assert proc.returncode == 0 and "1.69 px per module" in proc.stdout
    assert "under the photographic standard's 2" in proc.stderr


@pytest.mark.parametrize("written, meant", [
    ("true", "always"), ("false", "never"), ("hidden", "hidden"), ("never", "never")])
def test_second_look_keeps_the_meaning_of_configs_written_when_it_was_a_switch(
        written: str, meant: str) -> None:
    assert parse_config(f"classify:\n  second_look: {written}\n").classify.second_look == meant


def test_second_look_names_its_choices() -> None:
    with pytest.raises(ConfigError, match="classify.second_look"):
        parse_config("classify:\n  second_look: sometimes\n")


def test_turned_look_reaches_the_classifier_and_names_its_choices() -> None:
    from edge.classify import load_classifier

    cfg = parse_config("classify:\n  turned_look: steep\n").classify
    assert cfg.turned_look == "steep" and parse_config("").classify.turned_look == "unnamed"
    assert load_classifier(cfg).turned_look == "steep"
    with pytest.raises(ConfigError, match="classify.turned_look"):
        parse_config("classify:\n  turned_look: always\n")
