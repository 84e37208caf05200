"""The model's manifest: what the model expects and how its scores are meant to be read.

A model directory is only trusted after its manifest parses, every ONNX file it
names hashes to the SHA-256 the manifest states (checked on the bytes, before
onnxruntime parses anything) and the files' inputs match the declared spec.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from edge.classify.shading import FEATURES, ShadingFusion
from edge.durable import sha256_file

MANIFEST_FORMAT = "parcel-edge/model-manifest/1"
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 1_000_000
# Each candidate costs a crop and a classifier row; more than this would break the time budget.
MAX_CANDIDATES = 8
# Each surface patch costs a row of the packaging network; so does each candidate.
MAX_PATCHES = 16
# A camera's resolution on the belt: from a 1280 px frame over a 1 m belt to a macro view.
PX_PER_MM = (0.5, 100.0)
# The shading fusion's weights and bias (on the raw features, its standardisation folded in)
# are under one when fitted (at most 0.96 in v1.4.0): a hundred is a broken file.
MAX_WEIGHT = 100.0
# How the packaging network's patch readings make the parcel's (edge.classify.surface.
# patch_packaging): the mean of their log-probabilities (older models) or of their probabilities.
POOLINGS = ("mean_log_probability", "mean_probability")


class ModelError(RuntimeError):
    """A model directory that cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class InputSpec:
    """How pixels become the model's input tensor: (pixel / scale - mean) / std, NCHW."""

    name: str
    height: int
    width: int
    colour: str
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resize: str
    dtype: str = "float32"
    layout: str = "NCHW"


@dataclass(frozen=True)
class ModelFile:
    """One ONNX file named by the manifest, with its hash and input spec."""

    file: str
    sha256: str
    input: InputSpec
    outputs: Mapping[str, str]


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    model: ModelFile
    locator: ModelFile
    labels: tuple[str, ...]
    brands: tuple[str, ...]
    packagings: tuple[str, ...]
    flag_labels: tuple[str, ...]
    flag_thresholds: Mapping[str, float]
    review_thresholds: Mapping[str, float]
    review_total_suspect: float
    temperature: float
    brand_temperature: float
    locator_stride: int
    # How many of the locator's peaks the classifier looks at (its thresholds assume this many).
    locator_candidates: int
    crop_margin: float
    golden: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any]
    # The packaging network on surface patches (edge.classify.surface); without it the locator's
    # packaging head speaks.  Optional, so models made before it still load.
    surface: ModelFile | None = None
    surface_patches: int = 0
    # The resolution its training patches were cut at; None: patches in the picture's pixels.
    surface_px_per_mm: float | None = None
    # The network's log-probabilities fused with the parcel's broad shading
    # (edge.classify.shading); None: the network speaks alone.
    surface_shading: ShadingFusion | None = None
    # How its patches' readings make the parcel's (POOLINGS, edge.classify.surface); models
    # made before the choice existed averaged log-probabilities.
    surface_pooling: str = "mean_log_probability"


def read_verified(model_dir: Path, entry: ModelFile, max_bytes: int) -> bytes:
    """The file's bytes, only if they hash to what the manifest says."""
    path = model_path(model_dir, entry.file)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ModelError(f"{path}: {size} bytes is over the {max_bytes}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model file: {exc.strerror or exc}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.sha256:
        raise ModelError(f"{path}: SHA-256 {actual[:12]}... does not match the manifest's "
                         f"{entry.sha256[:12]}... (truncated, corrupt or replaced)")
    return data


def load_manifest(model_dir: Path) -> Manifest:
    """Parse and validate ``manifest.json``; raises :class:`ModelError` naming the problem."""
    path = Path(model_dir) / MANIFEST_NAME
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ModelError(f"{path}: manifest larger than {MAX_MANIFEST_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: no model manifest (is the model installed?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable manifest: {exc}") from None
    try:
        return _parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: invalid manifest: {exc.__class__.__name__}: {exc}") from None


def _parse(data: Mapping[str, Any]) -> Manifest:
    if data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"format is {data.get('format')!r}, expected {MANIFEST_FORMAT!r}")
    labels = tuple(str(x) for x in data["labels"])
    flag_labels = tuple(str(x) for x in data["flag_labels"])
    if "none" not in labels:
        raise ValueError("labels lack 'none' (no mark), which the unit needs to tell marks apart")
    unknown = set(flag_labels) - set(labels)
    if unknown:
        raise ValueError(f"flag_labels not among labels: {sorted(unknown)}")
    flag_t = _thresholds(data["thresholds"], "flag", flag_labels)
    review_t = _thresholds(data["thresholds"], "review", flag_labels)
    temperature = _positive(data["calibration"]["temperature"], "calibration.temperature")
    _require_roles(data["model"], ("labels", "brand"))
    _require_roles(data["locator"], ("heat", "geom", "packaging"))
    return Manifest(
        name=str(data["name"]), version=str(data["version"]),
        model=_model_file(data["model"]), locator=_model_file(data["locator"]),
        labels=labels, brands=tuple(str(b) for b in data["brands"]),
        packagings=tuple(str(p) for p in data["packagings"]),
        flag_labels=flag_labels, flag_thresholds=flag_t, review_thresholds=review_t,
        review_total_suspect=_fraction(data.get("review_total_suspect", 0.5),
                                       "review_total_suspect"),
        temperature=temperature,
        brand_temperature=_positive(data["calibration"].get("brand_temperature", 1.0),
                                    "calibration.brand_temperature"),
        locator_stride=int(data["locator"]["stride"]),
        locator_candidates=_bounded_int(data["locator"].get("candidates", 1),
                                        "locator.candidates", 1, MAX_CANDIDATES),
        crop_margin=float(data["model"].get("crop_margin", 0.15)),
        golden=tuple(data.get("golden", ())), raw=data,
        **_surface(data.get("surface"), len(data["packagings"])))


def _surface(entry: Mapping[str, Any] | None, packagings: int) -> dict[str, Any]:
    if entry is None:
        return {}
    _require_roles(entry, ("packaging",))
    model = _model_file(entry)
    if model.input.height != model.input.width:
        raise ValueError("surface patches are square: input height and width must agree")
    scale = entry.get("px_per_mm")
    return {"surface": model, "surface_patches": _bounded_int(
        entry.get("patches", 6), "surface.patches", 1, MAX_PATCHES),
        "surface_px_per_mm": None if scale is None else bounded_float(
            scale, "surface.px_per_mm", *PX_PER_MM),
        "surface_shading": _shading(entry.get("shading"), packagings),
        "surface_pooling": _pooling(entry.get("pooling", POOLINGS[0]))}


def _pooling(value: Any) -> str:
    if value not in POOLINGS:
        raise ValueError(f"surface.pooling must be one of {', '.join(POOLINGS)}, not {value!r}")
    return str(value)


def _shading(entry: Mapping[str, Any] | None, packagings: int) -> ShadingFusion | None:
    """One row of weights per packaging, each over its log-probabilities and the named
    shading features (the log alone where the entry names none, as before v1.6.3)."""
    if entry is None:
        return None
    names = entry.get("features", ["log_shading"])
    if not isinstance(names, list) or not names or len(set(names)) != len(names) or any(
            n not in FEATURES for n in names):
        raise ValueError("surface.shading.features must name distinct features among "
                         f"{', '.join(FEATURES)}")
    width = packagings + len(names)
    rows = entry["weights"]
    if not isinstance(rows, list) or len(rows) != packagings or any(
            not isinstance(r, list) or len(r) != width for r in rows):
        raise ValueError(f"surface.shading.weights must be {packagings} rows of {width} numbers")
    bias = entry["bias"]
    if not isinstance(bias, list) or len(bias) != packagings:
        raise ValueError(f"surface.shading.bias must be {packagings} numbers")

    def weight(value: Any, key: str) -> float:
        return bounded_float(value, f"surface.shading.{key}", -MAX_WEIGHT, MAX_WEIGHT)
    # ln(shading + FLOOR) lies between ln(FLOOR), about -5.8, and about 0.
    return ShadingFusion(weights=tuple(tuple(weight(v, "weights") for v in r) for r in rows),
                         bias=tuple(weight(v, "bias") for v in bias),
                         neutral=bounded_float(entry["neutral"], "surface.shading.neutral",
                                               -10.0, 0.0), features=tuple(names))


def _thresholds(table: Mapping[str, Any], kind: str, labels: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for label in labels:
        out[label] = _fraction(table[label][kind], f"thresholds.{label}.{kind}")
    return out


def _fraction(value: Any, key: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{key} = {number} is outside 0..1")
    return number


def _require_roles(entry: Mapping[str, Any], roles: tuple[str, ...]) -> None:
    missing = [r for r in roles if r not in entry["outputs"]]
    if missing:
        raise ValueError(f"{entry.get('file')!r} lacks outputs {missing}")


def _positive(value: Any, key: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"{key} must be > 0, got {number}")
    return number


def _bounded_int(value: Any, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} must be a whole number from {low} to {high}, not {value!r}")
    return value


def bounded_float(value: Any, key: str, low: float, high: float) -> float:
    """``value`` as a float when it is a number (not a bool) from ``low`` to ``high``; the error
    names ``key``.  Shared with the annotation files that say a photograph's scale."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not low <= float(value) <= high:
        raise ValueError(f"{key} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


def _model_file(entry: Mapping[str, Any]) -> ModelFile:
    sha = str(entry["sha256"]).lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError(f"sha256 of {entry.get('file')!r} is not 64 hex digits")
    return ModelFile(file=str(entry["file"]), sha256=sha, input=_input_spec(entry["input"]),
                     outputs={str(k): str(v) for k, v in entry["outputs"].items()})


def _input_spec(spec: Mapping[str, Any]) -> InputSpec:
    if spec.get("layout", "NCHW") != "NCHW" or spec.get("dtype", "float32") != "float32":
        raise ValueError("only NCHW float32 inputs are supported")
    if spec["colour"] not in ("RGB", "BGR"):
        raise ValueError(f"colour must be RGB or BGR, got {spec['colour']!r}")
    if spec.get("resize", "area") not in ("area", "linear"):
        raise ValueError(f"resize must be area or linear, got {spec.get('resize')!r}")
    mean, std = tuple(float(x) for x in spec["mean"]), tuple(float(x) for x in spec["std"])
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ValueError("mean and std need 3 values each, std > 0")
    height, width = int(spec["height"]), int(spec["width"])
    if not (8 <= height <= 1024 and 8 <= width <= 1024):
        raise ValueError(f"input size {width}x{height} out of range")
    return InputSpec(name=str(spec["name"]), height=height, width=width, colour=spec["colour"],
                     scale=_positive(spec.get("scale", 255.0), "input.scale"),
                     mean=mean, std=std, resize=spec.get("resize", "area"))  # type: ignore[arg-type]


def model_path(model_dir: Path, name: str) -> Path:
    """A file named by the manifest, refused if the name would leave the model directory."""
    if "/" in name or "\\" in name or name.startswith(".") or not name:
        raise ModelError(f"{model_dir}: manifest names an unsafe file {name!r}")
    return Path(model_dir) / name
