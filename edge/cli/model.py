"""``parcel-edge model keygen | sign | verify | publish | install | status | rollback | promote``.

The maintainer's workflow: keygen once per signer; sign a model folder (and/or
a catalogue folder) into a bundle; verify it; publish it to the broker, where
every unit on the update topic fetches, checks, trials and promotes it; then
watch ``status`` and, if needed, ``rollback`` or ``promote`` a unit remotely
(``--broker``) or a stopped unit's own store (``--config``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

ACTIONS = ("keygen", "sign", "verify", "publish", "install", "status", "rollback", "promote")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("bundle", nargs="?", type=Path, help="bundle folder (sign --out, verify, "
                        "publish, install)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--key", type=Path, action="append", default=[],
                        help="private key file (keygen: where to write it; sign: repeatable)")
    parser.add_argument("--model", type=Path, help="sign: the model folder (models/current)")
    parser.add_argument("--catalogue", type=Path, help="sign: the brand catalogue folder")
    parser.add_argument("--name", default="parcel-edge-models", help="sign: bundle name")
    parser.add_argument("--version", help="sign: bundle version, above every earlier one")
    parser.add_argument("--valid-days", type=float, default=30.0, help="sign: expiry")
    parser.add_argument("--requires-edge", help="sign: lowest parcel-edge version it needs")
    parser.add_argument("--config", type=Path, help="a unit's config (trusted keys, its store)")
    parser.add_argument("--trusted-key", action="append", default=[], help="verify: base64 key")
    parser.add_argument("--threshold", type=int, default=1, help="verify: signatures needed")
    parser.add_argument("--broker", help="host:port of the broker (publish, remote commands)")
    parser.add_argument("--ca-file", type=Path, help="TLS: the broker's CA certificate")
    parser.add_argument("--cert-file", type=Path, help="TLS: the maintainer's certificate")
    parser.add_argument("--key-file", type=Path, help="TLS: the maintainer's certificate key")
    parser.add_argument("--topic", default="parcel-edge/updates", help="publish: update topic")
    parser.add_argument("--chunk-kb", type=int, default=64, help="publish: chunk size in KiB")
    parser.add_argument("--unit", help="remote status/rollback/promote: the unit id")
    parser.add_argument("--prefix", help="remote: topic prefix (default parcel-edge/<unit>)")
    parser.add_argument("--timeout", type=float, default=30.0, help="remote: seconds to wait")


def main(args: argparse.Namespace) -> int:
    try:
        result = globals()[f"_{args.action}"](args)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"model {args.action}: {str(exc).splitlines()[0] if str(exc) else exc!r}",
              file=sys.stderr)
        return 2 if not isinstance(exc, RuntimeError) else 1
    print(json.dumps(result, sort_keys=True) if args.json else _human(result))
    return 0 if result.get("ok", True) else 1


def _human(result: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {json.dumps(v) if isinstance(v, (dict, list)) else v}"
                     for k, v in sorted(result.items()))


def _need(value: Any, flag: str) -> Any:
    if value is None or value == []:
        raise ValueError(f"{flag} is required")
    return value


def _keygen(args: argparse.Namespace) -> dict[str, Any]:
    from edge.update import signing

    path = _need(args.key, "--key")[0]
    key = signing.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(signing.private_pem(key))
    pub = signing.public_raw(key)
    return {"key": str(path), "public_key": signing.public_b64(key), "key_id": signing.key_id(pub)}


def _sign(args: argparse.Namespace) -> dict[str, Any]:
    """A new bundle from --model/--catalogue, or another signature on an existing bundle."""
    from edge.update import signing
    from edge.update.bundle import MANIFEST_FILE, SIGNATURES_FILE, build_manifest

    out = _need(args.bundle, "BUNDLE")
    keys = [signing.load_private(k) for k in _need(args.key, "--key")]
    sources = {c: p for c, p in (("model", args.model), ("catalogue", args.catalogue)) if p}
    if sources:
        if out.exists():
            raise ValueError(f"{out} exists; sign an existing bundle without --model/--catalogue")
        manifest = build_manifest(args.name, _need(args.version, "--version"), sources,
                                  valid_days=args.valid_days,
                                  requires={"edge": args.requires_edge} if args.requires_edge
                                  else {})
        out.mkdir(parents=True)
        for comp, src in sources.items():
            shutil.copytree(src, out / comp)
        (out / MANIFEST_FILE).write_bytes(manifest)
        sigs: list[dict] = []
    else:
        manifest = (out / MANIFEST_FILE).read_bytes()
        sigs = json.loads((out / SIGNATURES_FILE).read_text())
    have = {s.get("key_id") for s in sigs}
    sigs += [s.to_json() for s in (signing.sign(k, manifest) for k in keys) if s.key_id not in have]
    (out / SIGNATURES_FILE).write_text(json.dumps(sigs, indent=1) + "\n")
    return {"bundle": str(out), "signatures": [s["key_id"] for s in sigs]}


def _trust(args: argparse.Namespace) -> Any:
    from edge.update.checks import Trust

    if args.config:
        cfg = _config(args.config)
        return Trust(tuple(cfg.update.trusted_keys), cfg.update.threshold)
    return Trust(tuple(_need(args.trusted_key, "--config or --trusted-key")), args.threshold)


def _config(path: Path) -> Any:
    from edge.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise ValueError(exc.lines[0]) from None


def _verify(args: argparse.Namespace) -> dict[str, Any]:
    """Checks 1-6 (signature to hashes) on a bundle folder; nothing is installed."""
    from edge.update.checks import Rejected, verify_bundle_dir

    bundle = _need(args.bundle, "BUNDLE")
    try:
        manifest = verify_bundle_dir(bundle, _trust(args))
    except Rejected as exc:
        return {"bundle": str(bundle), "ok": False, "step": exc.step, "reason": exc.reason}
    return {"bundle": str(bundle), "ok": True, "name": manifest.name, "version": manifest.version,
            "components": list(manifest.components), "bytes": manifest.total_bytes,
            "expires_utc": manifest.expires.isoformat()}


def _client(args: argparse.Namespace) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    host, _, port = _need(args.broker, "--broker").rpartition(":")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"maintainer-{uuid.uuid4().hex[:8]}",
                         protocol=MQTTProtocolVersion.MQTTv5)
    if args.ca_file or args.cert_file:
        client.tls_set(ca_certs=str(args.ca_file) if args.ca_file else None,
                       certfile=str(args.cert_file) if args.cert_file else None,
                       keyfile=str(args.key_file) if args.key_file else None)
    client.connect(host or "localhost", int(port or (8883 if args.ca_file else 1883)))
    client.loop_start()
    return client


def _publish(args: argparse.Namespace) -> dict[str, Any]:
    from edge.update.publish import publish_bundle

    bundle = _need(args.bundle, "BUNDLE")
    if not 1 <= args.chunk_kb <= 1024:
        raise ValueError("--chunk-kb must be 1..1024")
    client = _client(args)
    try:
        result = publish_bundle(client, bundle, args.topic, args.chunk_kb * 1024, args.timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return {"bundle": str(bundle), **result}


def _install(args: argparse.Namespace) -> dict[str, Any]:
    """Into a stopped unit's store: every check, then promoted; probation runs at its next start.

    With ``--broker`` and no bundle: a running unit takes the offer on its update topic again
    (after a download that timed out, or one it refused and should now retry).
    """
    from edge.update import build_updater

    if args.broker and args.bundle is None:
        return _remote(args, "install")
    cfg = _config(_need(args.config, "--config"))
    update = cfg.update.model_copy(update={"shadow": cfg.update.shadow.model_copy(
        update={"parcels": 0})})
    updater = build_updater(cfg.model_copy(update={"update": update}), with_link=False)
    try:
        updater.manager.start()
        status = updater.manager.command("install-local",
                                         {"bundle": str(_need(args.bundle, "BUNDLE").resolve())},
                                         timeout=max(args.timeout, 120))
    finally:
        updater.close()
    return {"ok": (status.get("last") or {}).get("result") == "promoted", **status}


def _remote(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """``cmd/model-<command>`` to a running unit; its reply."""
    import queue
    import threading

    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    prefix = args.prefix or f"parcel-edge/{_need(args.unit, '--unit')}"
    reply_topic = f"{prefix}/cmd/reply/{uuid.uuid4().hex[:12]}"
    got: queue.Queue[bytes] = queue.Queue()
    client = _client(args)
    try:
        subscribed = threading.Event()
        client.on_message = lambda c, u, m: got.put(bytes(m.payload))
        client.on_subscribe = lambda *a: subscribed.set()
        client.subscribe(reply_topic, qos=1)
        subscribed.wait(args.timeout)
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_topic
        client.publish(f"{prefix}/cmd/model-{command}", b"{}", qos=1, properties=props)
        body = json.loads(got.get(timeout=args.timeout))
    except queue.Empty:
        raise RuntimeError(f"no reply from {prefix} in {args.timeout:g} s") from None
    finally:
        client.disconnect()
        client.loop_stop()
    if not body.get("ok"):
        raise RuntimeError(body.get("error", "refused"))
    return dict(body.get("result") or {})


def _local_store(args: argparse.Namespace, lock: bool = True) -> Any:
    from edge.update.store import VersionStore

    cfg = _config(args.config)
    return VersionStore(cfg.update.store_for(cfg.unit.data_dir), lock=lock)


def _status(args: argparse.Namespace) -> dict[str, Any]:
    if args.config:
        store = _local_store(args, lock=False)
        try:
            ptr = store.pointer()
            return {"store": str(store.root), "pointer": ptr.__dict__ if ptr else None,
                    "current_intact": store.intact(ptr.current) if ptr else False}
        finally:
            store.close()
    return _remote(args, "status")


def _rollback(args: argparse.Namespace) -> dict[str, Any]:
    if args.config:
        store = _local_store(args)
        try:
            return {"pointer": store.rollback("rolled back by a maintainer").__dict__}
        finally:
            store.close()
    return _remote(args, "rollback")


def _promote(args: argparse.Namespace) -> dict[str, Any]:
    return _remote(args, "promote")
