"""The bundle: component files, a manifest listing each file's size and SHA-256, signatures.

On disk a bundle is a folder::

    bundle.json        the manifest (the signed bytes)
    signatures.json    [{"key_id", "sig"}], Ed25519 over bundle.json's bytes
    model/...          the files of models/current/ (manifest, ONNX, golden images)
    catalogue/...      the brand catalogue folder

The manifest is parsed only after its signature verified, and nothing inside
a component is parsed before its size and hash matched the manifest.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from edge.configbase import SAFE_ID
from edge.durable import sha256_file as sha256_of

BUNDLE_FORMAT = "parcel-edge/bundle/1"
MANIFEST_FILE = "bundle.json"
SIGNATURES_FILE = "signatures.json"
COMPONENTS = ("model", "catalogue")
MAX_MANIFEST_BYTES = 256 * 1024
MAX_FILES = 2000
VERSION = re.compile(r"^\d{1,9}(\.\d{1,9}){0,3}$")
PATH_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class BundleError(ValueError):
    """A bundle that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class FileEntry:
    component: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BundleManifest:
    name: str
    version: str
    created: datetime
    expires: datetime
    requires: Mapping[str, str]
    files: tuple[FileEntry, ...]
    golden: tuple[Mapping[str, Any], ...]

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(c for c in COMPONENTS if any(f.component == c for f in self.files))

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def version_key(version: str) -> tuple[int, ...]:
    """Dotted whole numbers compared as numbers, padded so 1.2 == 1.2.0."""
    if not VERSION.match(version):
        raise BundleError(f"version {version[:40]!r} is not 1-4 dot-separated whole numbers")
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def safe_path(path: str) -> str:
    """A relative path inside a component; refuses anything that could leave it."""
    parts = path.split("/")
    if not 0 < len(parts) <= 4 or not all(PATH_PART.match(p) and p != ".." for p in parts):
        raise BundleError(f"unsafe file path {path[:80]!r}")
    return path


def _time(value: Any, key: str) -> datetime:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BundleError(f"{key} is not an ISO 8601 time") from None
    if t.tzinfo is None:
        raise BundleError(f"{key} has no time zone")
    return t.astimezone(timezone.utc)


def _entry(component: str, item: Any) -> FileEntry:
    if not isinstance(item, dict):
        raise BundleError(f"{component}: each file is an object")
    sha, size = str(item.get("sha256", "")).lower(), item.get("size")
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise BundleError(f"{component}: sha256 is not 64 hex digits")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 1 << 34:
        raise BundleError(f"{component}: size must be a whole number of bytes")
    return FileEntry(component, safe_path(str(item.get("path", ""))), size, sha)


def parse_manifest(data: bytes) -> BundleManifest:
    """Validate the (already authenticated) manifest bytes."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise BundleError(f"manifest over {MAX_MANIFEST_BYTES} bytes")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"manifest is not JSON: {exc.__class__.__name__}") from None
    if not isinstance(raw, dict) or raw.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"manifest format is not {BUNDLE_FORMAT}")
    name, version = str(raw.get("name", "")), str(raw.get("version", ""))
    if not SAFE_ID.match(name):
        raise BundleError("name must be 1-32 letters, digits, '_' or '-'")
    version_key(version)
    comps = raw.get("components")
    if not isinstance(comps, dict) or not comps or set(comps) - set(COMPONENTS):
        raise BundleError(f"components must be some of {', '.join(COMPONENTS)}")
    files = tuple(_entry(c, item) for c in COMPONENTS for item in comps.get(c, ()) or ())
    if not files or len(files) > MAX_FILES:
        raise BundleError(f"a bundle lists 1-{MAX_FILES} files")
    if len({(f.component, f.path) for f in files}) != len(files):
        raise BundleError("a file is listed twice")
    requires = raw.get("requires", {})
    golden = raw.get("golden", [])
    if not isinstance(requires, dict) or not isinstance(golden, list):
        raise BundleError("requires is an object and golden a list")
    return BundleManifest(name, version, _time(raw.get("created_utc"), "created_utc"),
                          _time(raw.get("expires_utc"), "expires_utc"),
                          {str(k): str(v) for k, v in requires.items()}, files, tuple(golden))


def list_component(folder: Path, component: str) -> list[dict[str, Any]]:
    """Every regular file under ``folder`` as a manifest entry (sorted, symlinks refused)."""
    out = []
    for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
        if path.is_symlink() or not path.is_file():
            raise BundleError(f"{path}: only regular files go into a bundle")
        rel = safe_path(path.relative_to(folder).as_posix())
        out.append({"path": rel, "size": path.stat().st_size, "sha256": sha256_of(path)})
    if not out:
        raise BundleError(f"{folder}: no files for component {component}")
    return out


def build_manifest(name: str, version: str, sources: Mapping[str, Path], *, valid_days: float,
                   requires: Mapping[str, str], now: datetime | None = None) -> bytes:
    """Manifest bytes for component folders; golden cases come from the model's own manifest."""
    version_key(version)
    if not SAFE_ID.match(name):
        raise BundleError("name must be 1-32 letters, digits, '_' or '-'")
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    golden: list[Any] = []
    if "model" in sources:
        golden = json.loads((sources["model"] / "manifest.json").read_text()).get("golden", [])
    body = {"format": BUNDLE_FORMAT, "name": name, "version": version,
            "created_utc": now.isoformat().replace("+00:00", "Z"),
            "expires_utc": (now + timedelta(days=valid_days)).isoformat().replace("+00:00", "Z"),
            "requires": dict(requires),
            "components": {c: list_component(Path(p), c) for c, p in sources.items()},
            "golden": golden}
    return json.dumps(body, indent=1, sort_keys=True).encode("utf-8") + b"\n"


def file_path(root: Path, entry: FileEntry) -> Path:
    return root / entry.component / entry.path
