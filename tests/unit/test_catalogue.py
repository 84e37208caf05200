"""The brand catalogue: loads as data, hashed; every bad input refused naming file and key."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edge.catalogue import (CatalogueError, CatalogueSlot, check_compatible, load_catalogue)
from edge.catalogue.colour import delta_e00, hex_to_lab
from edge.catalogue.names import match_word

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "catalogue"
PACKAGINGS = ("cardboard_box", "poly_mailer", "padded_envelope")


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "cat"
    shutil.copytree(SHIPPED, out)
    return out


def _edit(folder: Path, change) -> None:
    path = folder / "catalogue.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_shipped_catalogue_loads_and_its_hash_covers_the_pictures(folder: Path) -> None:
    cat = load_catalogue(folder)
    assert [b.name for b in cat.brands] == ["NORVEX", "KALIMBA", "ZENTRO", "ORBIQ", "LUMERA"]
    assert cat.get("lumera").ships_in == ("poly_mailer",) and len(cat.sha256) == 64
    check_compatible(cat, PACKAGINGS, "m 1")
    (folder / "lumera.png").write_bytes((folder / "norvex.png").read_bytes())
    assert load_catalogue(folder).sha256 != cat.sha256


def test_adding_a_brand_is_adding_data(folder: Path) -> None:
    shutil.copy(folder / "orbiq.png", folder / "velora.png")
    _edit(folder, lambda d: d["brands"].append(
        {"name": "VELORA", "spellings": ["VELORA", "VELORA CO"], "references": ["velora.png"],
         "colours": ["#1A7F5A"], "ships_in": ["poly_mailer"], "min_value": 20, "origins": ["ES"]}))
    cat = load_catalogue(folder)
    assert cat.get("VELORA").spellings == ("VELORA", "VELORA CO")
    assert match_word("VEL0RA", [(b.name, b.spellings) for b in cat.brands]).brand == "VELORA"


@pytest.mark.parametrize("change, words", [
    (lambda d: d["brands"][4].update(references=["gone.png"]),
     ["gone.png", "brands[4] (LUMERA).references[0]", "missing"]),
    (lambda d: d["brands"].append(dict(d["brands"][0])), ["'NORVEX' is listed twice"]),
    (lambda d: d["brands"][1].update(spellings=["NORVEX"]), ["spelling 'NORVEX'", "NORVEX"]),
    (lambda d: d["brands"][0].update(min_value=-5), ["brands[0] (NORVEX).min_value"]),
    (lambda d: d["brands"][0].update(min_value=True), ["brands[0] (NORVEX).min_value"]),
    (lambda d: d["brands"][2].update(colours=["red"]), ["brands[2] (ZENTRO).colours[0]", "#RRGGBB"]),
    (lambda d: d["brands"][2].update(origins=["Japan"]), ["brands[2] (ZENTRO).origins[0]"]),
    (lambda d: d["brands"][0].update(slogan="x"), ["brands[0]", "unknown key", "slogan"]),
    (lambda d: d["brands"][0].update(name="x"), ["brands[0].name"]),
    (lambda d: d["brands"][0].update(references=["../../etc/passwd.png"]), ["plain .png"]),
    (lambda d: d.update(brands=[]), ["'brands'"]),
    (lambda d: d.update(format="other/1"), ["'format'"]),
])
def test_bad_catalogue_is_refused_naming_file_and_key(folder: Path, change, words) -> None:
    _edit(folder, change)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(folder)
    assert str(folder) in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_unreadable_files_are_refused(folder: Path) -> None:
    (folder / "zentro.png").write_bytes(b"not a png at all")
    with pytest.raises(CatalogueError, match=r"zentro\.png.*references\[0\].*not a decodable"):
        load_catalogue(folder)
    (folder / "catalogue.json").write_text('{"format": ')
    with pytest.raises(CatalogueError, match=r"catalogue\.json: not JSON \(line 1\)"):
        load_catalogue(folder)
    with pytest.raises(CatalogueError, match="no catalogue manifest"):
        load_catalogue(folder / "nowhere")


def test_slot_keeps_the_last_good_catalogue(folder: Path, tmp_path: Path) -> None:
    slot = CatalogueSlot()
    assert slot.load(folder, PACKAGINGS, "m 1")
    good = slot.current
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    (bad / "kalimba.png").unlink()
    assert not slot.load(bad, PACKAGINGS, "m 1")
    assert slot.current is good and slot.errors == 1 and "kalimba.png" in slot.last_error


def test_catalogue_the_model_cannot_serve_is_refused_with_the_reason(folder: Path) -> None:
    _edit(folder, lambda d: d["brands"][0].update(ships_in=["gift_bag"]))
    slot = CatalogueSlot()
    assert not slot.load(folder, PACKAGINGS, "parcel-mark 1.1.0")
    assert "'NORVEX' ships_in ['gift_bag']" in slot.last_error
    assert "model parcel-mark 1.1.0 cannot recognise" in slot.last_error


@pytest.mark.parametrize("lab1, lab2, expected", [  # Sharma, Wu & Dalal (2005), table 1
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
])
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected) -> None:
    assert delta_e00(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_red_and_blue_are_far_apart_and_white_is_white() -> None:
    assert delta_e00(hex_to_lab("#C8232D"), hex_to_lab("#0F4696")) > 40
    assert hex_to_lab("#FFFFFF")[0] == pytest.approx(100.0, abs=0.01)
