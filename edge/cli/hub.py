"""``parcel-edge hub``: the central service (ingest, store, officers' web app) and its tools.

``serve`` runs a hub process; ``migrate`` brings the database schema up to date;
``user add``/``user list`` manage officers' accounts; ``audit verify`` walks the
hash chain of the audit log and exits non-zero if any entry was changed.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="hub config (YAML)")
    parser.add_argument("--json", action="store_true", help="JSON output")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="ingest and the web app (SIGTERM stops it)")
    serve.add_argument("--no-web", action="store_true", help="ingest only (more processes)")
    serve.add_argument("--instance", type=int, default=0,
                       help="number of this process among the hub's processes (0-999)")
    sub.add_parser("migrate", help="bring the database schema to the newest revision")
    sub.add_parser("stats", help="parcels, cases, units and audit entries stored")
    user = sub.add_parser("user", help="officers' accounts").add_subparsers(
        dest="user_action", metavar="USER_ACTION", required=True)
    add = user.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=("officer", "supervisor", "maintainer",
                                                       "readonly"))
    add.add_argument("--password-file", type=Path, default=None,
                     help="file holding the password (default: read one line from stdin)")
    user.add_parser("list", help="accounts with role and lockout state")
    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="audit_action", metavar="AUDIT_ACTION", required=True)
    audit.add_parser("verify", help="check every entry's hash and link; non-zero if broken")


def _config(args: argparse.Namespace) -> Any:
    from edge.hub.config import HubConfig, load_hub_config

    return load_hub_config(args.config) if args.config else HubConfig()


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError

    try:
        cfg = _config(args)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    if args.action == "serve":
        return _serve(cfg, args)
    from edge.hub.app import build

    hub = build(cfg, mqtt=False)
    try:
        return ACTIONS[args.action](hub, args)
    finally:
        hub.stop()


def _serve(cfg: Any, args: argparse.Namespace) -> int:
    from edge.hub.app import serve
    from edge.hub.config import ANY_UNIT

    if not 0 <= args.instance < 1000:
        print("--instance must be 0-999", file=sys.stderr)
        return 2
    if ANY_UNIT in cfg.ingest.units:
        log.warning("ingest.units has '*': messages from any unit id are accepted")
    return serve(cfg, web=not args.no_web, instance=args.instance)


def _migrate(hub: Any, args: argparse.Namespace) -> int:
    _print(args, {"migrated": True, "database": hub.cfg.database.type}, "schema is up to date")
    return 0


def _stats(hub: Any, args: argparse.Namespace) -> int:
    counts = {t: hub.store.execute_text(f"SELECT COUNT(*) FROM {t}")[0][0]  # fixed table names
              for t in ("parcels", "images", "cases", "case_events", "units", "users", "audit")}
    _print(args, counts, "  ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def _user(hub: Any, args: argparse.Namespace) -> int:
    from edge.hub.services import ServiceError

    if args.user_action == "list":
        for u in hub.services.users():
            _print(args, {"username": u.username, "role": u.role, "disabled": u.disabled,
                          "locked_until": u.locked_until.isoformat() if u.locked_until else None},
                   f"{u.username}  {u.role}{'  locked' if u.locked_until else ''}")
        return 0
    password = (args.password_file.read_text() if args.password_file
                else sys.stdin.readline()).strip("\r\n")
    try:
        user = hub.services.add_user(args.username, password, args.role, actor="cli")
    except ServiceError as exc:
        print(f"user add: {exc}", file=sys.stderr)
        return 1
    _print(args, {"username": user.username, "role": user.role}, f"added {user.username} ({user.role})")
    return 0


def _audit(hub: Any, args: argparse.Namespace) -> int:
    result = hub.services.verify_audit()
    _print(args, {"ok": result.ok, "entries": result.entries, "bad_id": result.bad_id,
                  "reason": result.reason},
           f"audit chain intact: {result.entries} entries" if result.ok else
           f"audit chain BROKEN at entry {result.bad_id}: {result.reason}")
    return 0 if result.ok else 1


def _print(args: argparse.Namespace, obj: dict[str, Any], text: str) -> None:
    print(json.dumps(obj, sort_keys=True) if args.json else text)


ACTIONS = {"migrate": _migrate, "stats": _stats, "user": _user, "audit": _audit}
