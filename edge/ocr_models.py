"""Which PP-OCR model files the rapidocr engine runs: the fused ones in models/ocr, when they fit.

``models/fuse_ocr.py`` rewrites the wheel's three models so that onnxruntime
runs them about 30 % faster with the same outputs (see that script for how).
A fused model is only right beside the exact model it was made from: the
recognition model's character list and the engine's pre- and post-processing
belong to that wheel version.  So the manifest records the wheel's version and
each source file's SHA-256, and the fused files are used only when both match
what is installed and each fused file matches its own recorded hash.
Otherwise the engine runs the wheel's own models and the reason is logged:
slower, never wrong.
"""
from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

from edge.durable import sha256_file

__all__ = ["FUSED_DIR", "MANIFEST", "ROLES", "OcrModelsError", "checked", "fused_models",
           "usable_models", "wheel_models"]

log = logging.getLogger(__name__)

PACKAGE = "rapidocr-onnxruntime"
MANIFEST = "manifest.json"
ROLES = ("det", "rec", "cls")
FUSED_DIR = Path(__file__).resolve().parent.parent / "models" / "ocr"
_CONFIG_KEYS = {"det": "Det", "rec": "Rec", "cls": "Cls"}


class OcrModelsError(ValueError):
    """The fused models cannot stand in for the installed wheel's; the message says why."""


def wheel_models() -> tuple[str, str, dict[str, Path]]:
    """The OCR wheel's name, version and model file per role, as its own config names them."""
    import yaml

    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        raise OcrModelsError(f"{PACKAGE} is not installed")
    root = Path(spec.origin).parent
    try:
        config = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
        files = {role: root / config[key]["model_path"] for role, key in _CONFIG_KEYS.items()}
        return PACKAGE, importlib.metadata.version(PACKAGE), files
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError,
            importlib.metadata.PackageNotFoundError) as exc:
        raise OcrModelsError(f"{root / 'config.yaml'}: the wheel's model paths cannot be read: "
                             f"{exc.__class__.__name__}: {exc}") from None


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OcrModelsError(f"{path}: unreadable: {exc.__class__.__name__}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise OcrModelsError(f"{path}: key 'models' is missing or not an object")
    return data


def fused_models(folder: Path) -> dict[str, Path]:
    """The fused file per role; raises OcrModelsError when any does not fit the installed wheel."""
    data = _manifest(folder)
    package, version, sources = wheel_models()
    if (data.get("package"), data.get("version")) != (package, version):
        raise OcrModelsError(f"{folder / MANIFEST}: made from {data.get('package')} "
                             f"{data.get('version')}, installed is {package} {version}")
    out = {}
    for role in ROLES:
        entry = data["models"].get(role)
        if not isinstance(entry, dict):
            raise OcrModelsError(f"{folder / MANIFEST}: key 'models.{role}' is missing")
        if entry.get("source_sha256") != sha256_file(sources[role]):
            raise OcrModelsError(f"{folder / MANIFEST}: models.{role} was made from another "
                                 f"{sources[role].name} than the installed one")
        path = folder / Path(str(entry.get("file", ""))).name
        if not path.is_file() or entry.get("sha256") != sha256_file(path):
            raise OcrModelsError(f"{path}: missing or not the file models.{role}.sha256 names")
        out[role] = path
    return out


@functools.lru_cache(maxsize=4)
def checked(folder: Path = FUSED_DIR) -> tuple[dict[str, Path], str]:
    """The fused files and "" when they fit, else {} and why (logged once).

    Cached: the 30 MB of models are hashed once per process, not once per engine and
    again for the self-test.
    """
    try:
        return fused_models(folder), ""
    except OcrModelsError as exc:
        log.warning("OCR runs the wheel's own models (slower): %s", exc)
        return {}, str(exc)


def usable_models(folder: Path = FUSED_DIR) -> dict[str, Path]:
    """The fused files when they fit, else {}: the engine then runs the wheel's own models."""
    return checked(folder)[0]
