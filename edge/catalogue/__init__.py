"""The brand catalogue: the unit's copy of the trademark recordations it checks marks against.

A folder with one manifest (``catalogue.json``) and the reference images it
names.  Per brand: its name and accepted spellings, pictures of the genuine
mark, its colours, the packaging it ships in, the lowest plausible declared
value and the countries it ships from.  Adding a brand is adding its entry and
pictures: no code, no retraining, because marks are identified by reading
their words and comparing with these entries, not by a network's output row.

The catalogue is validated as a whole and hashed (manifest plus every
reference file), so an over-the-air update can ship it like a model and every
parcel record can say which catalogue judged it.  Anything wrong raises
:class:`CatalogueError` naming the file and the key.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from edge.catalogue.colour import hex_to_lab

__all__ = ["Brand", "Catalogue", "CatalogueError", "CatalogueSlot", "load_catalogue",
           "check_compatible", "MANIFEST_NAME"]

log = logging.getLogger(__name__)

FORMAT = "parcel-edge/brand-catalogue/1"
MANIFEST_NAME = "catalogue.json"
MAX_MANIFEST_BYTES = 2_000_000
MAX_IMAGE_BYTES = 5_000_000
MAX_BRANDS = 2000
NAME = re.compile(r"^[A-Z0-9][A-Z0-9 &.'-]{1,39}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.(png|jpg|jpeg)$")
BRAND_KEYS = {"name", "spellings", "references", "colours", "ships_in", "min_value", "origins",
              "goods", "watched"}


class CatalogueError(ValueError):
    """A catalogue that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, eq=False)
class Brand:
    """One recorded brand.  ``references`` are BGR pictures of the genuine mark."""

    name: str
    spellings: tuple[str, ...]
    references: tuple[np.ndarray, ...]
    reference_files: tuple[str, ...]
    colours: tuple[str, ...]
    colours_lab: tuple[tuple[float, float, float], ...]
    ships_in: tuple[str, ...]
    min_value: float
    origins: tuple[str, ...]
    goods: bool
    watched: bool


@dataclass(frozen=True, eq=False)
class Catalogue:
    name: str
    version: str
    sha256: str
    folder: Path
    brands: tuple[Brand, ...]

    def get(self, name: str) -> Brand | None:
        return next((b for b in self.brands if b.name == name.upper()), None)

    @property
    def spellings(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(brand, its accepted spellings) for each brand: what the name matchers take."""
        return tuple((b.name, b.spellings) for b in self.brands)

    @property
    def packagings(self) -> frozenset[str]:
        return frozenset(p for b in self.brands for p in b.ships_in)


def load_catalogue(folder: Path) -> Catalogue:
    """Parse, validate and hash the catalogue in ``folder``; raises CatalogueError."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    raw = _read_manifest(path)
    where = f"{path}"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: the manifest must be a JSON object")
    if raw.get("format") != FORMAT:
        raise CatalogueError(f"{where}: key 'format' is {raw.get('format')!r}, expected {FORMAT!r}")
    name, version = _text(raw, "name", where), _text(raw, "version", where)
    entries = raw.get("brands")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_BRANDS:
        raise CatalogueError(f"{where}: key 'brands' must be a list of 1 to {MAX_BRANDS} brands")
    digest = hashlib.sha256(path.read_bytes())
    brands = tuple(_brand(folder, where, i, e, digest) for i, e in enumerate(entries))
    _no_duplicates(brands, where)
    return Catalogue(name, version, digest.hexdigest(), folder, brands)


def _read_manifest(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise CatalogueError(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no catalogue manifest") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: unreadable: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{path}: not JSON (line {exc.lineno}): {exc.msg}") from None


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or not value.isprintable():
        raise CatalogueError(f"{where}: key {key!r} must be printable text of 1-64 characters")
    return value


def _brand(folder: Path, where: str, i: int, e: Any, digest: Any) -> Brand:
    key = f"brands[{i}]"
    if not isinstance(e, dict):
        raise CatalogueError(f"{where}: {key} must be an object")
    unknown = sorted(set(e) - BRAND_KEYS)
    if unknown:
        raise CatalogueError(f"{where}: {key}: unknown key(s) {unknown}")
    name = e.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise CatalogueError(f"{where}: {key}.name {name!r} must be 2-40 capitals, digits, "
                             "spaces or &.'-")
    key = f"brands[{i}] ({name})"
    spellings = _names(e.get("spellings", [name]), f"{key}.spellings", where)
    files = _list(e.get("references"), f"{key}.references", where, 1, 16)
    refs = tuple(_reference(folder, where, f"{key}.references[{j}]", f, digest)
                 for j, f in enumerate(files))
    colours = _list(e.get("colours"), f"{key}.colours", where, 1, 8)
    labs = tuple(_colour(c, f"{key}.colours[{j}]", where) for j, c in enumerate(colours))
    ships = _list(e.get("ships_in", []), f"{key}.ships_in", where, 0, 16)
    origins = _list(e.get("origins", []), f"{key}.origins", where, 0, 64)
    for j, o in enumerate(origins):
        if not COUNTRY.match(o):
            raise CatalogueError(f"{where}: {key}.origins[{j}] {o!r} is not a 2-letter country")
    return Brand(name=name, spellings=tuple(dict.fromkeys((name, *spellings))), references=refs,
                 reference_files=tuple(files), colours=tuple(colours), colours_lab=labs,
                 ships_in=tuple(ships), min_value=_value(e.get("min_value", 0), key, where),
                 origins=tuple(origins), goods=_flag(e, "goods", key, where),
                 watched=_flag(e, "watched", key, where))


def _list(value: Any, key: str, where: str, low: int, high: int) -> list[str]:
    if not isinstance(value, list) or not low <= len(value) <= high or \
            not all(isinstance(v, str) and 0 < len(v) <= 100 for v in value):
        raise CatalogueError(f"{where}: {key} must be a list of {low} to {high} strings")
    return value


def _names(value: Any, key: str, where: str) -> tuple[str, ...]:
    names = _list(value, key, where, 1, 16)
    for j, n in enumerate(names):
        if not NAME.match(n):
            raise CatalogueError(f"{where}: {key}[{j}] {n!r} must be 2-40 capitals or digits")
    return tuple(names)


def _reference(folder: Path, where: str, key: str, name: str, digest: Any) -> np.ndarray:
    if not FILE.match(name):
        raise CatalogueError(f"{where}: {key} {name!r} must be a plain .png/.jpg file name")
    path = folder / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogueError(f"{path}: {key}: reference image is missing") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: {key}: unreadable: {exc.strerror or exc}") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise CatalogueError(f"{path}: {key}: {len(data)} bytes, over {MAX_IMAGE_BYTES}")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise CatalogueError(f"{path}: {key}: not a decodable image")
    h, w = image.shape[:2]
    if not (24 <= h <= 2048 and 24 <= w <= 4096):
        raise CatalogueError(f"{path}: {key}: {w}x{h} px is outside 24..4096 x 24..2048")
    digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return image


def _colour(value: str, key: str, where: str) -> tuple[float, float, float]:
    try:
        return hex_to_lab(value)
    except ValueError as exc:
        raise CatalogueError(f"{where}: {key}: {exc}") from None


def _value(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1e7:
        raise CatalogueError(f"{where}: {key}.min_value must be a number from 0 to 10000000")
    return float(value)


def _flag(e: Mapping[str, Any], name: str, key: str, where: str) -> bool:
    value = e.get(name, True)
    if not isinstance(value, bool):
        raise CatalogueError(f"{where}: {key}.{name} must be true or false")
    return value


def _no_duplicates(brands: Sequence[Brand], where: str) -> None:
    seen: dict[str, str] = {}
    for b in brands:
        for s in b.spellings:
            token = re.sub(r"[^A-Z0-9]", "", s)
            if token in seen and seen[token] != b.name:
                raise CatalogueError(f"{where}: brand {b.name!r}: spelling {s!r} is already "
                                     f"brand {seen[token]!r}'s")
            if token in seen and s == b.name:
                raise CatalogueError(f"{where}: brand {b.name!r} is listed twice")
            seen[token] = b.name


def check_compatible(catalogue: Catalogue, packagings: Sequence[str], model: str) -> None:
    """Refuse a catalogue that asks the model for what it cannot see (a packaging it lacks)."""
    for b in catalogue.brands:
        missing = [p for p in b.ships_in if p not in packagings]
        if missing:
            raise CatalogueError(
                f"{catalogue.folder / MANIFEST_NAME}: brand {b.name!r} ships_in {missing}, which "
                f"model {model} cannot recognise (it knows {', '.join(packagings)})")


class CatalogueSlot:
    """The catalogue in use; a bad replacement is refused and the last good one kept."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self._current = catalogue
        self._lock = threading.Lock()
        self.errors = 0
        self.last_error = ""

    @property
    def current(self) -> Catalogue | None:
        return self._current

    def load(self, folder: Path, packagings: Sequence[str] = (), model: str = "") -> bool:
        """Swap in the catalogue at ``folder``; False (and the old one kept) when it is bad."""
        try:
            new = load_catalogue(folder)
            if packagings:
                check_compatible(new, packagings, model)
        except CatalogueError as exc:
            with self._lock:
                self.errors += 1
                self.last_error = str(exc)
            log.error("catalogue refused, keeping %s: %s",
                      self._current.version if self._current else "none", exc)
            return False
        with self._lock:
            self._current = new
        log.info("catalogue %s %s loaded (%d brands, sha256 %s)", new.name, new.version,
                 len(new.brands), new.sha256[:12])
        return True
