"""Training from labelled photographs: the annotation file is checked, items match renders'."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import heldout
from models import dataset as ds
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
