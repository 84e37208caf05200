"""Training from labelled photographs: the annotation file is checked, items match renders'."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import heldout
from models import dataset as ds
from models.patches import PATCH, PATCHES, PX_PER_MM, photo_set
from models.photos import PhotoError, load_annotations, photo_items


def _folder(tmp_path: Path) -> Path:
    marked = heldout.render(3, 0, "genuine")
    plain = heldout.render(3, 1, "unbranded")
    cv2.imwrite(str(tmp_path / "a.jpg"), marked.image)
    cv2.imwrite(str(tmp_path / "b.png"), plain.image)
    t = marked.truth
    rows = [{"image": "a.jpg", "packaging": t["packaging"], "parcel_box": t["parcel_box"],
             "marks": [{"box": t["mark_box"], "angle": 0, "label": "genuine",
                        "brand": t["brand"], "text": t["brand"]}]},
            {"image": "b.png", "packaging": plain.truth["packaging"], "marks": []}]
    (tmp_path / "annotations.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp_path


def test_photographs_become_items_like_renders(tmp_path: Path) -> None:
    items = photo_items(_folder(tmp_path), repeat=2)
    assert len(items) == 4
    marked, plain = items[0], items[1]
    assert marked["thumb"].shape == (ds.LOCATOR.height, ds.LOCATOR.width, 3)
    assert marked["has"] == 1.0 and plain["has"] == 0.0
    assert ds.LABELS.index("genuine") in marked["crop_labels"]
    assert set(plain["crop_labels"]) == {0}
    assert all(c.shape == (ds.CROP.height, ds.CROP.width, 3) for c in marked["crops"])
    assert "" not in [t for t, lb in zip(marked["crop_texts"], marked["crop_labels"]) if lb]
    assert not np.array_equal(items[0]["crops"][-1], items[2]["crops"][-1])  # fresh jitter


@pytest.mark.parametrize("row, words", [
    ('{"image": "a.jpg", "packaging": "crate"}', ["annotations.jsonl:2", "packaging 'crate'"]),
    ('{"image": "a.jpg", "packaging": "poly_mailer", "marks": [{"box": [1, 2, 0, 5]}]}',
     ["annotations.jsonl:2", "marks[0].box"]),
    ('{"image": "a.jpg", "packaging": "poly_mailer", "marks": [{"box": [1, 2, 3, 5], '
     '"label": "fake"}]}', ["marks[0].label 'fake'"]),
    ('{"image": "a.jpg", "packaging": "poly_mailer", "colour": 1}', ["keys must be among"]),
    ('{"image": ', ["annotations.jsonl:2", "not JSON"]),
    ('{"image": "a.jpg", "packaging": "poly_mailer", "px_per_mm": 0}', ["px_per_mm must be"]),
    ('{"image": "a.jpg", "packaging": "poly_mailer", "label_box": [0, 0, 5]}', ["label_box"]),
])
def test_bad_annotations_name_file_line_and_key(tmp_path: Path, row: str, words) -> None:
    (tmp_path / "annotations.jsonl").write_text(
        '{"image": "a.jpg", "packaging": "poly_mailer"}\n' + row + "\n")
    with pytest.raises(PhotoError) as err:
        load_annotations(tmp_path)
    for w in words:
        assert w in str(err.value)


def test_missing_picture_is_named(tmp_path: Path) -> None:
    (tmp_path / "annotations.jsonl").write_text('{"image": "gone.jpg", "packaging": "poly_mailer"}\n')
    with pytest.raises(PhotoError, match=r"gone\.jpg: image missing"):
        photo_items(tmp_path)


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _one_photo(folder: Path, image: np.ndarray, row: dict) -> Path:
    folder.mkdir()
    cv2.imwrite(str(folder / "p.png"), image)
    (folder / "annotations.jsonl").write_text(json.dumps({"image": "p.png", **row}) + "\n")
    return folder


def _enlarged(image: np.ndarray, row: dict, k: int, scale: bool = True) -> tuple[np.ndarray, dict]:
    """The photograph taken at ``k`` times the resolution, its annotation's boxes with it."""
    out = {**row, "parcel_box": [k * v for v in row["parcel_box"]],
           "label_box": [k * v for v in row["label_box"]], "px_per_mm": k * PX_PER_MM}
    if not scale:
        del out["px_per_mm"]
    return np.repeat(np.repeat(image, k, axis=0), k, axis=1), out


def test_photographs_give_the_packaging_network_the_patches_the_unit_would_cut(
        tmp_path: Path) -> None:
    """At the training's scale whatever the camera: the same parcel photographed at twice the
    resolution, its scale annotated, gives the very patches of the one at the training's
    (three times: the same but for resampling); without its scale, patches in its pixels."""
    r = ds.render(7007, 2, 0.5, materials=True)
    t = r.truth
    row = {"packaging": t["packaging"], "parcel_box": t["parcel_box"],
           "label_box": t["label_box"], "px_per_mm": PX_PER_MM}
    patches, packs = photo_set([_one_photo(tmp_path / "near", r.image, row)], 3)
    assert patches.shape == (3, PATCHES, PATCH, PATCH, 3)
    assert list(packs) == [ds.PACKAGINGS.index(t["packaging"])] * 3
    assert not np.array_equal(patches[0], patches[1])  # moved afresh each time
    twice = _one_photo(tmp_path / "twice", *_enlarged(r.image, row, 2))
    assert np.array_equal(photo_set([twice], 3)[0], patches)
    thrice = _one_photo(tmp_path / "thrice", *_enlarged(r.image, row, 3))
    assert _mean_difference(photo_set([thrice], 1)[0], patches[:1]) < 6
    pixels = _one_photo(tmp_path / "pixels", *_enlarged(r.image, row, 3, scale=False))
    # beyond what resampling the same millimetres leaves (the bound above); 7.1 on this parcel
    # with the 6 x 6 grid (v1.6.2's cells), 9 and more with the 4 x 4
    assert _mean_difference(photo_set([pixels], 1)[0], patches[:1]) > 6
