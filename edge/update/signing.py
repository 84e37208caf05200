"""Ed25519 keys and signatures over a bundle's manifest, with a threshold of distinct keys.

The signature covers the manifest's exact bytes (never a re-serialisation),
prefixed with a context string so a signature made for something else cannot
be passed off as a bundle signature.  A key is named by a short hash of its
public bytes, so the unit never trusts a name the bundle asserts.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edge.update.config import decode_public_key

CONTEXT = b"parcel-edge bundle manifest v1\n"
MAX_SIGNATURES = 16


@dataclass(frozen=True)
class Signature:
    key_id: str
    value: bytes

    def to_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "sig": base64.b64encode(self.value).decode("ascii")}


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return base64.b64encode(public_raw(key)).decode("ascii")


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return key


def sign(key: Ed25519PrivateKey, manifest: bytes) -> Signature:
    return Signature(key_id(public_raw(key)), key.sign(CONTEXT + manifest))


def parse_signatures(items: Any) -> list[Signature]:
    """Signatures from untrusted JSON; malformed entries raise ValueError."""
    if not isinstance(items, list) or not 0 < len(items) <= MAX_SIGNATURES:
        raise ValueError(f"signatures must be a list of 1-{MAX_SIGNATURES} entries")
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
            raise ValueError("each signature is an object with 'key_id' and 'sig'")
        try:
            value = base64.b64decode(item["sig"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a signature is not base64") from None
        out.append(Signature(str(item.get("key_id", ""))[:64], value))
    return out


def trusted_signers(manifest: bytes, signatures: Iterable[Signature],
                    trusted: Sequence[str]) -> set[str]:
    """Ids of the distinct trusted keys whose signature over ``manifest`` verifies.

    Every signature is tried against every trusted key (the key id a bundle
    states is only a hint), so a forged id gains nothing.
    """
    keys = {key_id(raw): Ed25519PublicKey.from_public_bytes(raw)
            for raw in (decode_public_key(k) for k in trusted)}
    good: set[str] = set()
    for sig in signatures:
        for kid, pub in keys.items():
            if kid in good:
                continue
            try:
                pub.verify(sig.value, CONTEXT + manifest)
            except InvalidSignature:
                continue
            good.add(kid)
            break
    return good
