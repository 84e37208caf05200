"""The checks a bundle passes, in this order, each refusal naming its step and reason.

signature → manifest → version → expiry → requires → size → files → loads → golden →
warm-up.  The first six run on the offer alone, before a byte of the bundle is fetched;
``files`` checks every size, then every hash, before anything parses a file;
the last three are the component validators (:mod:`edge.update.validators`).
"""
from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from edge import __version__ as EDGE_VERSION
from edge.update.bundle import (MANIFEST_FILE, MAX_MANIFEST_BYTES, SIGNATURES_FILE, BundleError,
                                BundleManifest, file_path, parse_manifest, sha256_of, version_key)
from edge.update.signing import parse_signatures, trusted_signers

STEPS = ("signature", "manifest", "version", "expiry", "requires", "size", "files", "loads",
         "golden", "warm-up")


class Rejected(Exception):
    """A bundle refused at ``step``; ``reason`` is one line for ``model/status``."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


@dataclass(frozen=True)
class Trust:
    keys: tuple[str, ...]
    threshold: int


def check_signature(manifest: bytes, signatures: Any, trust: Trust) -> set[str]:
    """Step 1: enough distinct trusted keys signed these exact bytes."""
    try:
        sigs = parse_signatures(signatures)
    except ValueError as exc:
        raise Rejected("signature", str(exc)) from None
    good = trusted_signers(manifest, sigs, trust.keys)
    if len(good) < trust.threshold:
        raise Rejected("signature", f"{len(good)} valid signature(s) by trusted keys, "
                       f"{trust.threshold} needed")
    return good


def check_offer(manifest: bytes, signatures: Any, trust: Trust, highest: str | None,
                max_bytes: int, now: datetime | None = None) -> BundleManifest:
    """Steps 1-6 on the offer alone: who signed it, is it new, is it fresh, is it small enough."""
    check_signature(manifest, signatures, trust)
    try:
        parsed = parse_manifest(manifest)
    except BundleError as exc:
        raise Rejected("manifest", str(exc)) from None
    if highest is not None and version_key(parsed.version) <= version_key(highest):
        raise Rejected("version", f"{parsed.version} is not above {highest}, the highest ever "
                       "installed here (an old bundle replayed?)")
    now = now or datetime.now(timezone.utc)
    if parsed.expires <= now:
        raise Rejected("expiry", f"expired at {parsed.expires.isoformat()}")
    _check_requires(parsed)
    if parsed.total_bytes > max_bytes:
        raise Rejected("size", f"{parsed.total_bytes} bytes is over this unit's limit of "
                       f"{max_bytes}")
    return parsed


def _check_requires(parsed: BundleManifest) -> None:
    need = parsed.requires.get("edge")
    if need is None:
        return
    try:
        ok = version_key(EDGE_VERSION) >= version_key(need)
    except BundleError:
        raise Rejected("requires", f"requires.edge {need[:20]!r} is not a version") from None
    if not ok:
        raise Rejected("requires", f"needs parcel-edge {need}, this unit runs {EDGE_VERSION}")


def check_files(root: Path, manifest: BundleManifest) -> None:
    """Step 7: exactly the listed files, every size, then every hash; nothing is parsed."""
    for entry in manifest.files:
        path = file_path(root, entry)
        try:
            st = path.lstat()
        except OSError:
            raise Rejected("files", f"{entry.component}/{entry.path} is missing") from None
        if not stat.S_ISREG(st.st_mode):
            raise Rejected("files", f"{entry.component}/{entry.path} is not a regular file")
        if st.st_size != entry.size:
            raise Rejected("files", f"{entry.component}/{entry.path} is {st.st_size} bytes, "
                           f"the manifest says {entry.size} (truncated or padded)")
    _no_extra_files(root, manifest)
    for entry in manifest.files:
        if sha256_of(file_path(root, entry)) != entry.sha256:
            raise Rejected("files", f"{entry.component}/{entry.path} does not hash to the "
                           "manifest's SHA-256 (tampered or corrupt)")


def _no_extra_files(root: Path, manifest: BundleManifest) -> None:
    listed = {f"{e.component}/{e.path}" for e in manifest.files}
    for comp in manifest.components:
        for path in (root / comp).rglob("*"):
            rel = path.relative_to(root).as_posix()
            if not path.is_dir() and rel not in listed:
                raise Rejected("files", f"{rel[:80]} is not in the manifest")


def read_bundle_dir(root: Path) -> tuple[bytes, Any]:
    """The manifest bytes and signature list of a bundle folder (``sign``'s output)."""
    try:
        manifest = (root / MANIFEST_FILE).read_bytes()
        sigs = json.loads((root / SIGNATURES_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Rejected("signature", f"{root}: not a bundle: {exc.__class__.__name__}: "
                       f"{exc}") from None
    if len(manifest) > MAX_MANIFEST_BYTES:
        raise Rejected("manifest", "manifest too large")
    return manifest, sigs


def verify_bundle_dir(root: Path, trust: Trust, highest: str | None = None,
                      max_bytes: int = 1 << 34, now: datetime | None = None
                      ) -> BundleManifest:
    """Steps 1-7 on a bundle folder: what ``model verify`` and a local install run first."""
    manifest, sigs = read_bundle_dir(root)
    parsed = check_offer(manifest, sigs, trust, highest, max_bytes, now)
    check_files(root, parsed)
    return parsed

