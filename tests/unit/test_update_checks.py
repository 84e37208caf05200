"""The bundle checks in their order, on real Ed25519 signatures and the shipped model."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ota_helpers import expired, make_bundle

from edge.config import ConfigError, parse_config
from edge.update import signing
from edge.update.bundle import BundleError, parse_manifest, version_key
from edge.update.checks import Rejected, Trust, verify_bundle_dir


@pytest.fixture(scope="module")
def keys() -> list:
    return [signing.generate() for _ in range(3)]


def trust(keys: list, threshold: int = 1) -> Trust:
    return Trust(tuple(signing.public_b64(k) for k in keys), threshold)


def refused(bundle: Path, t: Trust, **kw) -> Rejected:
    with pytest.raises(Rejected) as info:
        verify_bundle_dir(bundle, t, **kw)
    return info.value


def test_a_signed_bundle_verifies(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", keys[:1])
    manifest = verify_bundle_dir(bundle, trust(keys[:1]))
    assert manifest.version == "1.2.0" and manifest.components == ("model",)
    assert {f.path for f in manifest.files} >= {"manifest.json", "model.onnx", "locator.onnx"}
    assert manifest.golden and manifest.golden[0]["expected"]


def test_a_tampered_model_byte_is_caught_by_its_hash(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", keys[:1])
    onnx = bundle / "model" / "model.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0x01
    onnx.write_bytes(bytes(data))
    exc = refused(bundle, trust(keys[:1]))
    assert exc.step == "files" and "model/model.onnx" in exc.reason and "SHA-256" in exc.reason


def test_a_tampered_manifest_breaks_the_signature(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", keys[:1])
    text = (bundle / "bundle.json").read_text().replace('"1.2.0"', '"7.0.0"')
    (bundle / "bundle.json").write_text(text)
    exc = refused(bundle, trust(keys[:1]))
    assert exc.step == "signature" and "0 valid" in exc.reason


def test_an_unknown_key_is_refused(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", [signing.generate()])
    assert refused(bundle, trust(keys[:2])).step == "signature"


def test_a_forged_key_id_gains_nothing(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", [signing.generate()])
    sigs = json.loads((bundle / "signatures.json").read_text())
    sigs[0]["key_id"] = signing.key_id(signing.public_raw(keys[0]))
    (bundle / "signatures.json").write_text(json.dumps(sigs))
    assert refused(bundle, trust(keys[:1])).step == "signature"


def test_a_threshold_of_two_needs_two_distinct_trusted_signers(tmp_path: Path, keys: list) -> None:
    one = make_bundle(tmp_path, "1.2.0", keys[:1])
    assert "1 valid signature(s) by trusted keys, 2 needed" in refused(one, trust(keys, 2)).reason
    doubled = make_bundle(tmp_path, "1.2.0", [keys[0], keys[0]])
    assert refused(doubled, trust(keys, 2)).step == "signature"
    two = make_bundle(tmp_path, "1.2.0", keys[1:3])
    assert verify_bundle_dir(two, trust(keys, 2)).version == "1.2.0"


def test_a_rotated_key_still_verifies(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", [keys[2]])
    assert verify_bundle_dir(bundle, trust(keys)).version == "1.2.0"


def test_an_older_or_equal_version_is_a_replay(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", keys[:1])
    for highest in ("1.2.0", "1.10", "2"):
        exc = refused(bundle, trust(keys[:1]), highest=highest)
        assert exc.step == "version" and "replayed" in exc.reason
    assert verify_bundle_dir(bundle, trust(keys[:1]), highest="1.1.9").version == "1.2.0"


def test_an_expired_manifest_is_refused(tmp_path: Path, keys: list) -> None:
    exc = refused(expired(tmp_path, keys[:1]), trust(keys[:1]))
    assert exc.step == "expiry" and "expired" in exc.reason


def test_an_oversized_bundle_is_refused_before_any_file_is_read(tmp_path: Path,
                                                               keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", keys[:1])
    (bundle / "model" / "model.onnx").unlink()  # not needed: refused on the manifest alone
    exc = refused(bundle, trust(keys[:1]), max_bytes=100_000)
    assert exc.step == "size" and "100000" in exc.reason


def test_a_truncated_or_extra_file_is_refused(tmp_path: Path, keys: list) -> None:
    bundle = make_bundle(tmp_path, "1.2.0", keys[:1])
    onnx = bundle / "model" / "locator.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-10])
    assert "truncated" in refused(bundle, trust(keys[:1])).reason
    other = make_bundle(tmp_path, "1.2.0", keys[:1])
    (other / "model" / "extra.bin").write_bytes(b"x")
    assert "not in the manifest" in refused(other, trust(keys[:1])).reason


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", ".hidden", "a//b", "a/../../b", ""])
def test_unsafe_paths_in_a_manifest_are_refused(path: str) -> None:
    body = {"format": "parcel-edge/bundle/1", "name": "m", "version": "1",
            "created_utc": "2026-01-01T00:00:00Z", "expires_utc": "2027-01-01T00:00:00Z",
            "components": {"model": [{"path": path, "size": 1, "sha256": "0" * 64}]}}
    with pytest.raises(BundleError, match="unsafe file path"):
        parse_manifest(json.dumps(body).encode())


def test_versions_compare_as_numbers() -> None:
    assert version_key("1.10.0") > version_key("1.9.9")
    assert version_key("2") == version_key("2.0.0.0")
    for bad in ("1.2.x", "-1", "1.2.3.4.5", "01a"):
        with pytest.raises(BundleError):
            version_key(bad)


def test_update_config_is_checked(keys: list) -> None:
    good = signing.public_b64(keys[0])
    cfg = parse_config(f"update:\n  enabled: true\n  trusted_keys: [{good}]\n")
    assert cfg.update.threshold == 1 and cfg.update.shadow.parcels == 200
    cases = {
        "update:\n  shadow:\n    parcles: 3\n": "update.shadow.parcles: unknown key",
        f"update:\n  enabled: true\n  trusted_keys: [{good}]\n  threshold: 2\n": "threshold 2",
        "update:\n  trusted_keys: [bm90IGEga2V5]\n": "32 bytes",
        "update:\n  shadow:\n    max_disagreement: 1.5\n": "max_disagreement",
        "update:\n  topic: 'a/#'\n": "update.topic",
    }
    for text, expected in cases.items():
        with pytest.raises(ConfigError) as info:
            parse_config(text, "u.yaml")
        assert expected in str(info.value), info.value


def test_a_bundle_needing_newer_software_is_refused(tmp_path: Path, keys: list) -> None:
    from edge.update.bundle import MANIFEST_FILE

    bundle = make_bundle(tmp_path, "1.2.0", keys[:1])
    body = json.loads((bundle / MANIFEST_FILE).read_text())
    body["requires"] = {"edge": "99.0"}
    data = json.dumps(body).encode()
    (bundle / MANIFEST_FILE).write_bytes(data)
    (bundle / "signatures.json").write_text(json.dumps([signing.sign(keys[0], data).to_json()]))
    exc = refused(bundle, trust(keys[:1]))
    assert exc.step == "requires" and "needs parcel-edge 99.0" in exc.reason
