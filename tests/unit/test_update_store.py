"""Version store, shadow trial, probation and the slot, on the shipped model and real files."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from ota_helpers import SHIPPED, SHIPPED_VERSION, Feeder, catalogue_copy, golden_parcels, make_bundle, model_copy, unit_yaml

from edge.config import parse_config
from edge.records import Classification
from edge.update import build_updater, signing
from edge.update.checks import Rejected
from edge.update.config import ProbationConfig
from edge.update.store import StoreError, VersionStore
from edge.update.trial import Probation, ShadowTrial


@pytest.fixture(scope="module")
def key():
    return signing.generate()


def updater(tmp_path: Path, key, extra: str = "", **kw):
    cfg = parse_config(unit_yaml(tmp_path, [key], extra=extra))
    up = build_updater(cfg, with_link=False, **kw)
    up.manager.start()
    return up


NO_TRIAL = "  shadow: {parcels: 0}\n  probation: {parcels: 0}\n"


def test_store_seeds_promotes_rolls_back_and_never_forgets_the_highest(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "s")
    ptr = store.open(SHIPPED)
    assert ptr.current == "0" and store.intact("0")
    tmp = store.versions / ".1.3.0.tmp"
    (tmp / "model").mkdir(parents=True)
    (tmp / "model" / "f").write_bytes(b"new")
    store.seal(tmp, "1.3.0")
    ptr = store.promote("1.3.0")
    assert (ptr.current, ptr.previous, ptr.highest, ptr.probation) == ("1.3.0", "0", "1.3.0", True)
    ptr = store.rollback("probation: test")
    assert (ptr.current, ptr.previous, ptr.highest) == ("0", None, "1.3.0")
    assert ptr.rejected["1.3.0"] == "probation: test"
    assert not (store.versions / "1.3.0").exists()
    store.close()
    again = VersionStore(tmp_path / "s")
    assert again.open(SHIPPED).highest == "1.3.0"
    again.close()


def test_store_is_held_by_one_process(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "s")
    store.open(SHIPPED)
    with pytest.raises(StoreError, match="in use"):
        VersionStore(tmp_path / "s")
    reader = VersionStore(tmp_path / "s", lock=False)  # model status beside a running unit
    assert reader.pointer().current == "0"
    reader.close()
    store.close()


def test_a_damaged_current_version_falls_back_to_the_previous(tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "s")
    store.open(SHIPPED)
    tmp = store.versions / ".2.tmp"
    (tmp / "model").mkdir(parents=True)
    (tmp / "model" / "f").write_bytes(b"abc")
    store.seal(tmp, "2")
    store.promote("2")
    (store.versions / "2" / "model" / "f").write_bytes(b"abd")
    ptr = store.open(SHIPPED)
    assert ptr.current == "0" and ptr.highest == "2" and "2" in ptr.rejected
    store.close()


def test_local_install_promotes_and_a_replay_is_refused(tmp_path: Path, key) -> None:
    up = updater(tmp_path, key, NO_TRIAL)
    try:
        status = up.manager.command("install-local",
                                    {"bundle": str(make_bundle(tmp_path, "1.2.0", [key]))})
        assert status["last"]["result"] == "promoted", status
        assert status["installed"]["version"] == "1.2.0" and up.slot.available
        from edge.update.publish import offer_payload
        up.manager.post("offer", offer_payload(make_bundle(tmp_path, "1.2.0", [key]), 65536))
        assert up.manager.command("status")["last"]["result"] == "promoted"  # retained, no news
        up.manager.command("rollback")
        assert up.manager.pointer.current == "0" and up.manager.pointer.highest == "1.2.0"
        old = make_bundle(tmp_path, "1.1.0", [key])
        with pytest.raises(ValueError, match="not above 1.2.0"):
            up.manager.command("install-local", {"bundle": str(old)})
        assert up.manager.status()["last"]["step"] == "version"
    finally:
        up.close()


def test_a_golden_mismatch_is_refused_at_golden(tmp_path: Path, key) -> None:
    def wrong(manifest: dict) -> None:
        manifest["golden"][1]["expected"]["labels"][0] += 0.5

    model = model_copy(tmp_path / "m", wrong)
    up = updater(tmp_path, key, NO_TRIAL)
    try:
        status = up.manager.command("install-local",
                                    {"bundle": str(make_bundle(tmp_path, "1.2.0", [key],
                                                               model=model))})
        assert status["last"]["result"] == "rejected" and status["last"]["step"] == "golden"
        assert "labels differs" in status["last"]["reason"]
        assert status["installed"]["version"] == "0"
        assert sorted(p.name for p in up.store.versions.iterdir()) == ["0"]
    finally:
        up.close()


def test_a_model_that_does_not_load_is_refused_at_loads(tmp_path: Path, key) -> None:
    model = model_copy(tmp_path / "m")
    (model / "model.onnx").write_bytes(b"not onnx at all")
    manifest = json.loads((model / "manifest.json").read_text())
    import hashlib
    manifest["model"]["sha256"] = hashlib.sha256(b"not onnx at all").hexdigest()
    (model / "manifest.json").write_text(json.dumps(manifest))
    up = updater(tmp_path, key, NO_TRIAL)
    try:
        status = up.manager.command("install-local", {
            "bundle": str(make_bundle(tmp_path, "1.2.0", [key], model=model))})
        assert status["last"]["step"] == "loads" and "onnxruntime" in status["last"]["reason"]
    finally:
        up.close()


def test_a_catalogue_goes_through_its_validator_and_runs_with_the_model(tmp_path: Path, key) -> None:
    def no_pictures(body: dict) -> None:
        body["brands"][0]["references"] = ["missing.png"]

    def recoloured(body: dict) -> None:
        body["brands"][0]["colours"] = ["#00FF00"]
        body["version"] = "1.0.1"

    up = updater(tmp_path, key, NO_TRIAL)
    try:
        bad = make_bundle(tmp_path, "1.1.0", [key], catalogue=catalogue_copy(tmp_path / "b", no_pictures))
        status = up.manager.command("install-local", {"bundle": str(bad)})
        assert status["last"]["step"] == "loads" and "missing.png" in status["last"]["reason"]
        good = make_bundle(tmp_path, "1.2.0", [key], catalogue=catalogue_copy(tmp_path / "g", recoloured))
        status = up.manager.command("install-local", {"bundle": str(good)})
        assert status["last"]["result"] == "promoted"
        installed = up.store.path("1.2.0")
        assert json.loads((installed / "catalogue" / "catalogue.json").read_text())["version"] == "1.0.1"
        assert (installed / "model" / "model.onnx").exists()  # carried over from the running one
        judged = up.slot.classify(golden_parcels()[1], None)
        assert judged.catalogue.version == "1.0.1" and judged.model.version == SHIPPED_VERSION
    finally:
        up.close()


def result(top: str, flag: bool, ms: float = 5.0, available: bool = True) -> Classification:
    return Classification(model=None, scores={"counterfeit": 0.9 if flag else 0.1}, top=top,
                          available=available, ms=ms, flag_thresholds={"counterfeit": 0.5})


class Fixed:
    def __init__(self, res: Classification) -> None:
        self.res = res

    def classify(self, image, box, label=None, surface=None):
        return self.res


def test_shadow_trial_counts_disagreements_once_per_parcel_off_the_path() -> None:
    done: list[dict] = []

    class Slow(Fixed):
        def classify(self, image, box, label=None, surface=None):
            time.sleep(0.01)
            return self.res

    trial = ShadowTrial(Slow(result("counterfeit", True)), 40, done.append)
    started = time.perf_counter()
    offered = 0

    def feed() -> None:
        nonlocal offered
        while not done and time.perf_counter() - started < 30:
            trial.observe(None, None, result("none", False))
            offered += 1
            time.sleep(0.002)
    threads = [threading.Thread(target=feed) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 1 and done[0]["parcels"] == 40 and done[0]["disagreement_rate"] == 1.0
    assert done[0]["flag_rate_candidate"] == 1.0 and done[0]["flag_rate_current"] == 0.0
    assert done[0]["skipped"] > 0  # the shadow fell behind: parcels skipped, never delayed
    assert trial.summary()["parcels"] == 40


@pytest.mark.parametrize("feed, reason", [
    ([result("none", False, available=False)], "1 classifier error"),
    ([result("none", False, ms=3000.0)] * 10, "past the 2500 ms budget"),
    ([result("counterfeit", True)] * 10, "100% of parcels flagged"),
    ([result("none", False)] * 10, None),
])
def test_probation_ends_with_a_reason(feed: list, reason: str | None) -> None:
    ended: list = []
    probation = Probation(ProbationConfig(parcels=10), lambda r, f: ended.append((r, f)))
    for res in feed:
        probation.observe(res)
    assert len(ended) == 1
    assert (ended[0][0] is None) if reason is None else (reason in ended[0][0])


def test_probation_sees_a_model_that_flags_nothing_any_more() -> None:
    ended: list = []
    probation = Probation(ProbationConfig(parcels=50), lambda r, f: ended.append(r), 0.2)
    for _ in range(50):
        probation.observe(result("none", False))
    assert "nothing flagged in 50 parcels where the previous model flagged 20%" in ended[0]
    quiet: list = []
    belt = Probation(ProbationConfig(parcels=50), lambda r, f: quiet.append(r), 0.04)
    for _ in range(50):
        belt.observe(result("none", False))
    assert quiet == [None]  # two expected flags missing is not yet a collapse


def test_the_slot_swaps_between_parcels_under_load(tmp_path: Path, key) -> None:
    """Every call gets a whole answer from one model or the other; none fails, none is lost."""
    def renamed(manifest: dict) -> None:
        manifest["version"] = "2.0.0"

    def newer(catalogue: dict) -> None:
        catalogue["version"] = "2.0.0"

    up = updater(tmp_path, key, NO_TRIAL)
    try:
        bundle = make_bundle(tmp_path, "2.0.0", [key], model=model_copy(tmp_path / "m", renamed),
                             catalogue=catalogue_copy(tmp_path / "c", newer))
        with Feeder(up.slot, threads=3) as feeder:
            from ota_helpers import wait_for
            wait_for(lambda: len(feeder.results) > 20)
            up.manager.command("install-local", {"bundle": str(bundle)})
            wait_for(lambda: sum(r.model.version == "2.0.0" for r in feeder.results) > 20)
        assert not feeder.failures
        versions = [r.model.version for r in feeder.results]
        assert {SHIPPED_VERSION, "2.0.0"} == set(versions)
        assert all(r.available for r in feeder.results)
        for r in feeder.results:  # each judged entirely by one version: its model and catalogue
            assert (r.catalogue.version == "2.0.0") == (r.model.version == "2.0.0")
        assert len(feeder.results) == feeder.calls
    finally:
        up.close()
