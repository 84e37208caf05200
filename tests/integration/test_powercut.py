"""Power cuts at random instants on a file system that throws unsynced writes away."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

fuse = pytest.importorskip("fuse", reason="fusepy is not installed")


@pytest.mark.skipif(not os.path.exists("/dev/fuse") or os.geteuid() != 0,
                    reason="needs /dev/fuse and root to mount")
def test_every_parcel_counted_as_seen_survives_random_power_cuts(tmp_path: Path, broker) -> None:
    from powercut import Mount, run_cuts

    try:  # a container without the right to mount FUSE cannot run this; that is not a defect
        Mount(tmp_path / "probe").close()
    except RuntimeError as exc:
        pytest.skip(f"cannot mount a FUSE file system here: {exc}")
    cuts = int(os.environ.get("POWERCUT_CUTS", "24"))
    tally = run_cuts(tmp_path, broker.port, cuts, seed=int(os.environ.get("POWERCUT_SEED", "1")),
                     max_s=1.0)
    assert tally.cuts == cuts
    assert not tally.failures, tally.failures[:5]
    assert tally.survived == cuts
    assert len(tally.seen) > cuts, "parcels were committed between the cuts"
    assert not tally.bad_published, tally.bad_published[:5]
    assert tally.published_images > 0 and tally.published_records > 0
