"""Commands to the unit on ``<prefix>/cmd/<name>``: validated, dispatched, answered.

Anyone who can write to the broker can write here, so a command is untrusted
input: the name must be one we know, the payload a small JSON object.  Every
command gets a reply (``ok`` or an ``error`` saying why) on the MQTT 5
response topic if the requester gave one under our ``cmd/reply`` subtree,
else on ``<prefix>/cmd/reply``; nothing else happens for a bad command.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from edge.configbase import SAFE_ID
from edge.publish.topics import REPLY, Topics
from edge.records import COMMAND_REPLY_SCHEMA

log = logging.getLogger(__name__)

REPLY_SCHEMA = COMMAND_REPLY_SCHEMA
MAX_PAYLOAD = 64 * 1024

CommandHandler = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


class CommandError(ValueError):
    """A command we will not run; the message goes back to the requester."""


@dataclass(frozen=True)
class Reply:
    topic: str
    payload: bytes
    correlation: bytes | None


class CommandRouter:
    """Maps command names to injected handlers (``reload-config``, ``test-capture``, ...)."""

    def __init__(self, topics: Topics, handlers: Mapping[str, CommandHandler]) -> None:
        for name in handlers:
            if not SAFE_ID.match(name) or name == REPLY:
                raise ValueError(f"bad command name {name!r}")
        self._topics = topics
        self._handlers = dict(handlers)
        self.errors = Counter[str]()
        self.handled = 0

    def handle(self, topic: str, payload: bytes, properties: Any) -> Reply | None:
        """Run one command message; None for our own replies and topics not ours."""
        name = self._topics.command_name(topic)
        if name is None or name == REPLY:
            return None
        reply_to = self._reply_topic(properties)
        correlation = getattr(properties, "CorrelationData", None)
        try:
            handler = self._handler(name)
            args = self._arguments(payload)
        except CommandError as exc:
            self.errors["command_rejected"] += 1
            log.warning("rejected command %r: %s", name[:64], exc)
            return self._reply(reply_to, correlation, name, ok=False, error=str(exc))
        try:
            result = handler(args)
        except Exception as exc:  # a failing handler must not take the unit down
            self.errors["command_failed"] += 1
            log.exception("command %s failed", name)
            return self._reply(reply_to, correlation, name, ok=False,
                               error=f"failed: {exc.__class__.__name__}: {str(exc)[:200]}")
        self.handled += 1
        return self._reply(reply_to, correlation, name, ok=True, result=dict(result or {}))

    def _handler(self, name: str) -> CommandHandler:
        if not SAFE_ID.match(name):
            raise CommandError("malformed command name")
        handler = self._handlers.get(name)
        if handler is None:
            raise CommandError(f"unknown command (known: {', '.join(sorted(self._handlers))})")
        return handler

    @staticmethod
    def _arguments(payload: bytes) -> dict[str, Any]:
        if len(payload) > MAX_PAYLOAD:
            raise CommandError(f"payload over {MAX_PAYLOAD} bytes")
        if not payload.strip():
            return {}
        try:
            args = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"payload is not JSON: {exc.__class__.__name__}") from None
        if not isinstance(args, dict):
            raise CommandError("payload must be a JSON object")
        return args

    def _reply_topic(self, properties: Any) -> str:
        wanted = getattr(properties, "ResponseTopic", None)
        base = self._topics.cmd_reply
        if isinstance(wanted, str) and wanted.startswith(base + "/") and len(wanted) <= 256 \
                and not any(c in wanted for c in "+#\x00"):
            return wanted
        return base

    def _reply(self, topic: str, correlation: bytes | None, name: str, ok: bool,
               error: str = "", result: Mapping[str, Any] | None = None) -> Reply:
        body: dict[str, Any] = {"schema": REPLY_SCHEMA, "command": name[:64], "ok": ok}
        if error:
            body["error"] = error
        if result is not None:
            body["result"] = result
        data = json.dumps(body, sort_keys=True, default=str, ensure_ascii=True).encode()
        return Reply(topic, data, correlation)
