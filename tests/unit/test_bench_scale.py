"""The benchmark's frame sizes: the same belt drawn finer, or the belt a wider sensor is for."""
from __future__ import annotations

from pathlib import Path

import pytest

from edge.bench_scale import sized
from edge.config import expected_blur_px, module_px
from edge.demo import demo_config


def test_a_wider_sensor_draws_the_same_belt_finer_unless_true_to_scale() -> None:
    cfg = demo_config(None)
    finer = sized(cfg, 4056, 3040)
    true = sized(cfg, 4056, 3040, true_scale=True)
    assert finer.conveyor.field_of_view_mm == cfg.conveyor.field_of_view_mm
    assert module_px(finer) == pytest.approx(module_px(cfg) * 4056 / cfg.camera.width)
    assert true.conveyor.field_of_view_mm == pytest.approx(
        cfg.conveyor.field_of_view_mm * 4056 / cfg.camera.width)
    assert module_px(true) == pytest.approx(module_px(cfg))
    # the exposure's smear, in bars, is the installation's either way
    for at in (finer, true):
        assert expected_blur_px(at) / module_px(at) == pytest.approx(
            expected_blur_px(cfg) / module_px(cfg), rel=0.01)
    assert true.classify.threads == 1 and true.camera.width == 4056


def test_the_summary_counts_parcels_read_per_cpu_second_beside_parcels_handled() -> None:
    """A loop that reads one parcel in twelve is not six times faster at reading them."""
    from edge.bench_scale import FLOORS, PARTS, SizeResult

    r = SizeResult(4056, 3040, parcels=12, read=12, loop_read=1)
    for k in PARTS:
        r.path[k] = [25.0 if k != "commit" else 3.0] * 12
    for k in FLOORS:
        r.floors[k] = [10.0] * 12
    r.loop_cpu, r.loop_wall, r.frame_ms = [20.0] * 12, [1.0] * 12, [1.0] * 12
    s = r.summary()
    path_cpu = 25.0 * (len(PARTS) - 1)
    assert s["parcels_per_cpu_s"] == round(1000 / path_cpu, 1) and s["loop_parcels_per_cpu_s"] == 50.0
    assert s["read_per_cpu_s"] == round(1000 / path_cpu, 1)
    # the parts alone, fsync (wall time of the commit) left out: 4 CPU floors of 10 ms
    assert s["floors_per_cpu_s"] == 25.0
    assert s["loop_read_per_cpu_s"] == round(50.0 / 12, 1)


def test_two_path_workers_take_every_capture_once_and_no_number_twice(tmp_path: Path) -> None:
    """The bench's second-worker figure runs the path as the pipeline's workers do."""
    from edge.bench import collect_captures, path_capacity
    from edge.demo import with_run_overrides
    from edge.outbox import Outbox

    cfg = with_run_overrides(demo_config(None), tmp_path, 4, 3)
    captures = collect_captures(cfg, 4)
    two = path_capacity(cfg, captures, tmp_path, workers=2)
    assert two.workers == 2 and two.parcels == len(captures) >= 3 and two.parcels_per_s > 0
    outbox = Outbox(cfg.outbox, tmp_path / "capacity-outbox-2")
    try:
        items = outbox.pending(1000)
    finally:
        outbox.close()
    seqs = sorted({item.seq for item in items})
    assert len({item.parcel for item in items}) == len(captures)
    assert seqs == list(range(seqs[0], seqs[0] + len(captures)))  # no number twice, none skipped
