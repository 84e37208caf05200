"""The synthetic world: real barcodes that real decoders read, exact truth, seeded, fast conveyor."""
from __future__ import annotations

import dataclasses
import functools
import json
import time

import cv2
import numpy as np
import pytest
import zxingcpp

from edge.camera import CameraContext, CameraError, EndOfStream, open_camera
from edge.camera.synthetic import Config as CameraConfig
from edge.cli import main as cli_main
from edge.config import ConveyorConfig
from edge.synth import ids, marks, surfaces
from edge.synth.nuisance import NAMES, NUISANCES, motion_kernel
from edge.synth.scene import FRAME_H, FRAME_W, render_still, sample_parcel


def still(seed: int, nuisances: tuple[str, ...] = (), **kw):
    rng = np.random.default_rng(seed)
    return render_still(sample_parcel(rng, **kw), rng, nuisances)


def inside(box: list[int], outer: list[int], slack: int = 2) -> bool:
    x, y, w, h = box
    ox, oy, ow, oh = outer
    return x >= ox - slack and y >= oy - slack and x + w <= ox + ow + slack and y + h <= oy + oh + slack


def test_generated_ids_validate_with_the_reader():
    identify = pytest.importorskip("edge.identify").identify
    rng = np.random.default_rng(11)
    for _ in range(300):
        for value in (ids.make_s10(rng), ids.make_ups(rng)):
            got = identify(value)
            assert got.valid and got.value == value
        zip5, pic = ids.make_impb(rng)
        got = identify(f"(420){zip5}(92){pic[2:]}")
        assert (got.kind, got.value, got.valid) == ("usps_impb", pic, True)


def test_same_seed_same_image_and_truth_other_seed_differs():
    a_img, a_truth = still(5, ("rotation", "jpeg"))
    b_img, b_truth = still(5, ("rotation", "jpeg"))
    c_img, c_truth = still(6, ("rotation", "jpeg"))
    assert np.array_equal(a_img, b_img) and a_truth == b_truth
    assert not np.array_equal(a_img, c_img) and a_truth["reference"] != c_truth["reference"]


@pytest.mark.parametrize("nuisance", NAMES)
def test_truth_is_consistent_and_json(nuisance):
    for seed in range(3):
        img, truth = still(100 + seed, (nuisance,), mark_prob=1.0)
        assert img.shape == (FRAME_H, FRAME_W, 3) and img.dtype == np.uint8
        json.dumps(truth)
        frame = [0, 0, FRAME_W, FRAME_H]
        for key in ("parcel_box", "label_box"):
            assert inside(truth[key], frame) and truth[key][2] > 100 and truth[key][3] > 100
        assert inside(truth["label_box"], truth["parcel_box"], slack=4)
        for code in truth["barcodes"]:
            assert inside(code["box"], truth["label_box"], slack=4)
        for box in truth["text_boxes"].values():
            assert inside(box, truth["label_box"], slack=4)
        mark = truth["mark"]
        assert mark["variant"] in marks.VARIANTS and mark["brand"] in marks.BRAND_BY_NAME
        if mark["box"] is not None:
            assert inside(mark["box"], truth["parcel_box"], slack=4)
        assert truth["nuisances"] == [nuisance]
        assert set(truth["declared"]) >= {"contents", "value", "origin"}


def test_zxing_reads_every_clean_still_where_the_truth_says():
    for seed in range(12):
        img, truth = still(200 + seed, second_code_prob=0.5)
        found = zxingcpp.read_barcodes(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        by_text = {(r.text, str(r.format).replace(" ", "")): r for r in found}
        for code in truth["barcodes"]:
            hit = by_text.get((code["text"], code["format"]))
            assert hit is not None, (seed, code["text"])
            centre = np.mean([[p.x, p.y] for p in (hit.position.top_left, hit.position.bottom_right)], 0)
            x, y, w, h = code["box"]
            assert x <= centre[0] <= x + w and y <= centre[1] <= y + h


def test_main_barcode_carries_the_reference():
    kinds = set()
    for seed in range(20):
        _, truth = still(300 + seed)
        ref, main = truth["reference"], truth["barcodes"][0]
        kinds.add(ref["kind"])
        if ref["kind"] == "usps_impb":
            assert main["text"].startswith("(420)") and main["text"].endswith(ref["value"][2:])
        else:
            assert main["text"] == ref["value"]
    assert kinds == {"upu_s10", "usps_impb", "ups"}


def _edges(img: np.ndarray, axis: int) -> float:
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(np.abs(np.diff(grey, axis=axis)).mean())


def test_each_nuisance_does_what_it_says():
    clean, truth = still(7)
    out = {name: still(7, (name,)) for name in NUISANCES}
    for name, (img, _) in out.items():
        assert not np.array_equal(img, clean), name
    assert out["low_light"][0].mean() < 0.5 * clean.mean()
    assert out["rotation"][1]["label_box"] != truth["label_box"]
    assert out["perspective"][1]["label_box"] != truth["label_box"]
    blur = out["motion_blur"][0]
    assert _edges(blur, 1) / _edges(clean, 1) < _edges(blur, 0) / _edges(clean, 0)
    assert _edges(out["defocus"][0], 0) < _edges(clean, 0)
    assert (out["glare"][0] >= 250).sum() > (clean >= 250).sum()
    assert out["motion_blur"][1]["nuisance_params"]["motion_blur"]["blur_px"] > 1


def _glare_off_label(seed: int, packaging: str) -> tuple[float, float]:
    """Brightening by glare on and off the label of one materials parcel (mean grey levels)."""
    clean, truth = still(seed, packaging=packaging, materials=True)
    lit, _ = still(seed, ("glare",), packaging=packaging, materials=True)
    gain = (lit.astype(np.float32) - clean.astype(np.float32)).max(axis=2)
    x, y, w, h = truth["label_box"]
    label = np.zeros(gain.shape, bool)
    label[y - 3:y + h + 3, x - 3:x + w + 3] = True
    return float(gain[label].mean()), float(gain[~label].max())


def test_glare_shines_only_off_glossy_surfaces():
    """Board and paper are matte: glare lights their label, never the board around it (it made
    flat boxes measure draped); film shines anywhere."""
    for seed in range(6):
        for packaging in ("cardboard_box", "padded_envelope"):
            on_label, off_label = _glare_off_label(100 + seed, packaging)
            assert off_label == 0.0, (seed, packaging)
    film = [_glare_off_label(100 + seed, "poly_mailer")[1] for seed in range(6)]
    assert max(film) > 60


def test_motion_kernel_sums_to_one_and_has_the_asked_length():
    for length in (1.5, 3.0, 4.2, 7.9):
        k = motion_kernel(length)
        assert k.sum() == pytest.approx(1.0) and k.shape[1] >= length


def test_unknown_nuisance_is_refused():
    with pytest.raises(ValueError, match="unknown nuisance"):
        still(1, ("sparkles",))


def test_mark_variants_differ_visibly_and_packaging_fits_the_variant():
    rng = np.random.default_rng(3)
    brand = marks.BRANDS[0]
    base = np.full((160, 400, 3), 200, np.uint8)
    genuine = base.copy()
    marks.draw_mark(genuine, marks.sample_mark(rng, "genuine", brand), 10, 10, 200)
    for variant in ("misspelled", "wrong_colour", "distorted", "low_quality"):
        img = base.copy()
        marks.draw_mark(img, marks.sample_mark(rng, variant, brand), 10, 10, 200)
        assert np.abs(img.astype(int) - genuine).mean() > 1.0, variant
    for seed in range(60):
        spec = sample_parcel(np.random.default_rng(seed), mark_prob=1.0)
        allowed = marks.BRAND_BY_NAME[spec.mark.brand].packagings
        assert (spec.packaging in allowed) == (spec.mark.variant != "wrong_packaging")
        if seed % 6 == 0:
            _, truth = render_still(spec, np.random.default_rng(seed), ())
            assert truth["mark"]["box"][2] >= 0.95 * min(120 * spec.mark.stretch, 300)


def test_sample_parcel_honours_forced_packaging_and_variant():
    rng = np.random.default_rng(8)
    for packaging in marks.PACKAGINGS:
        for variant in (*marks.VARIANTS, "none"):
            spec = sample_parcel(rng, packaging=packaging, variant=variant)
            assert spec.packaging == packaging
            if variant == "none":
                assert spec.mark is None
                continue
            assert spec.mark.variant == variant
            fits = packaging in marks.BRAND_BY_NAME[spec.mark.brand].packagings
            assert fits == (variant != "wrong_packaging")
    with pytest.raises(ValueError):
        sample_parcel(rng, variant="smudged")


def camera(**kw):
    cfg = CameraConfig(realtime=False, seed=4, **kw)
    return open_camera(cfg, CameraContext(conveyor=ConveyorConfig(), seed=0))


def test_conveyor_moves_parcels_at_belt_speed_and_ends_after_n():
    cam = camera(parcels=2, gap_m=0.1, lead_m=0.0)
    cam.start()
    conveyor = ConveyorConfig()
    expected = conveyor.belt_speed_m_s * 1000 / 30.0 / (conveyor.field_of_view_mm / 1280)
    seen, lefts, frames = set(), {}, 0
    with pytest.raises(EndOfStream):
        while frames < 1000:
            frame = cam.read(1.0)
            frames += 1
            assert frame.image.shape == (960, 1280, 3) and frame.seq == frames
            json.dumps(frame.truth)
            for p in frame.truth["parcels"]:
                seen.add(p["parcel_id"])
                if p["complete"]:
                    lefts.setdefault(p["parcel_id"], []).append(p["parcel_box"][0])
    assert seen == {0, 1} and frames < 1000
    steps = np.diff(lefts[0])
    assert np.all(np.abs(steps - expected) <= 1.0) and len(steps) > 3
    cam.stop()


def test_rotated_parcels_bigger_than_the_view_still_show_their_whole_label():
    cam = camera(parcels=6, nuisance_prob=1.0, nuisances=("rotation",), gap_m=0.0, lead_m=0.0)
    cam.start()
    whole, frames = set(), 0
    with pytest.raises(EndOfStream):
        while frames < 2000:
            frames += 1
            for p in cam.read(1.0).truth["parcels"]:
                x, y, w, h = p["label_box"]
                if x > 0 and y > 0 and x + w < 1280 and y + h < 960:
                    whole.add(p["parcel_id"])
    assert whole == set(range(6))


def test_conveyor_frames_are_seeded_and_carry_readable_labels():
    from edge.camera import EndOfStream
    from edge.decode import LabelReader

    a, b = camera(parcels=1), camera(parcels=1)
    a.start(), b.start()
    complete = []
    for _ in range(200):
        try:
            fa, fb = a.read(1.0), b.read(1.0)
        except EndOfStream:
            break
        assert np.array_equal(fa.image, fb.image)
        complete += [(fa, p) for p in fa.truth["parcels"] if p["complete"]]
    assert complete
    frame, truth = complete[len(complete) // 2]
    texts = {s.text for s in LabelReader(blur_prior_px=a.blur_px).read_image(frame.image).symbols}
    assert truth["barcodes"][0]["text"] in texts


def test_conveyor_draws_labels_at_the_px_per_module_its_config_implies():
    import cv2 as _cv2

    from edge.camera.synthetic import SyntheticCamera, _draw

    spec = sample_parcel(np.random.default_rng(5))
    widths = {}
    for fov in (250.0, 125.0):
        cam = SyntheticCamera(CameraConfig(), ConveyorConfig(field_of_view_mm=fov), seed=3)
        assert cam.px_per_module == pytest.approx(1280 * 0.33 / fov)
        _, _, _, quads, _ = _draw(spec, CameraConfig(), cam.px_per_module, 0.0)
        widths[fov] = _cv2.minAreaRect(np.float32(quads["label"]).reshape(-1, 2))[1]
    ratio = max(widths[125.0]) / max(widths[250.0])
    assert ratio == pytest.approx(2.0, rel=0.02)  # half the field of view: twice the pixels per module


def test_conveyor_is_fast_and_realtime_mode_paces_frames():
    cam = camera(nuisance_prob=1.0, nuisances=("rotation", "glare"))
    cam.start()
    for _ in range(5):
        cam.read(1.0)  # sprites rendered up front
    times = []
    for _ in range(60):
        t = time.perf_counter()
        cam.read(1.0)
        times.append(time.perf_counter() - t)
    assert np.median(times) < 0.01
    paced = open_camera(CameraConfig(realtime=True, fps=50, seed=1), CameraContext(ConveyorConfig()))
    with pytest.raises(CameraError):
        paced.read(0.1)
    paced.start()
    t0 = time.perf_counter()
    for _ in range(6):
        paced.read(1.0)
    assert time.perf_counter() - t0 >= 0.09


def test_camera_config_bounds_and_names():
    with pytest.raises(ValueError):
        CameraConfig(nuisances=("sparkles",))
    with pytest.raises(ValueError):
        CameraConfig(fps=0)
    with pytest.raises(ValueError):
        CameraConfig(colour="red")
    small = camera(width=640, height=480, parcels=1)
    small.start()
    assert small.read(1.0).image.shape == (480, 640, 3)


def test_synth_cli_writes_pairs(tmp_path, capsys):
    out = tmp_path / "set"
    rc = cli_main(["synth", "--out", str(out), "--count", "3", "--seed", "9", "--nuisance", "clean",
                   "rotation+jpeg", "--format", "png"])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "000000.json", "000000.png", "000001.json", "000001.png", "000002.json", "000002.png"]
    truth = json.loads((out / "000001.json").read_text())
    assert truth["nuisances"] == ["rotation", "jpeg"] and truth["image"] == "000001.png"
    assert cv2.imread(str(out / "000001.png")).shape == (960, 1280, 3)


@pytest.mark.parametrize("args", [["--count", "0"], ["--count", "2", "--nuisance", "fog"],
                                  ["--count", "2", "--mark-prob", "2"]])
def test_synth_cli_bad_args_one_line(tmp_path, capsys, args):
    rc = cli_main(["synth", "--out", str(tmp_path / "x"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("parcel-edge synth:")


def test_synth_cli_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = cli_main(["synth", "--out", str(blocker / "sub"), "--count", "1"])
    assert rc == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


def test_materials_change_only_the_surface_and_keep_the_rest_of_the_parcel():
    plain = sample_parcel(np.random.default_rng(21), mark_prob=1.0)
    wide = sample_parcel(np.random.default_rng(21), mark_prob=1.0, materials=True)
    assert wide.material is not None and wide.material.packaging == wide.packaging
    assert wide.colour == wide.material.colour
    assert dataclasses.replace(wide, colour=plain.colour, material=None) == plain


def _fine_texture(packaging: str, i: int) -> tuple[float, bool]:
    """A material's finest texture (grey levels off a 1.5 px blur), away from the seam and tape
    along a box's middle, and whether it is coated board."""
    rng = np.random.default_rng([i, 5])
    material = surfaces.sample_material(rng, packaging)
    img = np.full((400, 400, 3), material.colour, np.float32)
    surfaces.paint(img, material, rng)
    grey = img[40:120, 40:120, 1]
    return float((grey - cv2.GaussianBlur(grey, (0, 0), 1.5)).std()), material.coated


def test_smoothness_is_no_clue_to_film_coated_board_is_as_smooth():
    """The network once learnt "smooth is film" and read plain white boxes as mailers: some
    boxes must be as smooth as film, and those are the coated ones."""
    boxes = [_fine_texture("cardboard_box", i) for i in range(100)]
    film = [_fine_texture("poly_mailer", i)[0] for i in range(100)]
    assert np.percentile([b for b, _ in boxes], 20) < np.median(film)
    coated = [b for b, c in boxes if c]
    assert len(coated) >= 20 and np.median(coated) < 1.25 * np.median(film)


def test_material_colour_is_no_clue_to_packaging_and_the_material_itself_is_drawn():
    """Every packaging comes light and dark; only bubbles give a padded envelope a relief in both
    directions (a box's flutes, seam and tape run one way: row and column means take them out)."""
    lightness: dict[str, list[float]] = {p: [] for p in marks.PACKAGINGS}
    for i in range(240):
        pack = marks.PACKAGINGS[i % 3]
        colour = surfaces.sample_material(np.random.default_rng(i), pack).colour
        lightness[pack].append(float(np.mean(colour)))
    for pack, values in lightness.items():
        assert max(values) > 200 and min(values) < 90, pack  # white ones and dark ones
    relief = {}
    board = functools.partial(surfaces._board, coated=False)
    for pack, draw in (("cardboard_box", board), ("padded_envelope", surfaces._padded)):
        img = np.full((300, 400, 3), 200, np.float32)
        draw(img, np.random.default_rng(3))  # the relief alone, without the fibre's grain
        centre = img[60:240, 80:320, 1]
        rest = centre - centre.mean(0, keepdims=True) - centre.mean(1, keepdims=True)
        relief[pack] = float(rest.std())
    assert relief["padded_envelope"] > 3 * relief["cardboard_box"]
