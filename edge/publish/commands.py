"""Commands to the unit on ``<prefix>/cmd/<name>``: validated, dispatched, answered.

Anyone who can write to the broker can write here, so a command is untrusted
input: the name must be one we know, the payload a small JSON object whose size
and nesting are checked on the raw bytes before any parser sees them (a 2 kB
``[[[[...`` would otherwise exhaust Python's recursion limit), and each command
has its own rate limit (a token bucket), so a flood of one command neither
starves the others nor the unit's delivery.  Every command gets a reply (``ok`` or an ``error`` saying why) on the MQTT 5
response topic if the requester gave one under our ``cmd/reply`` subtree,
else on ``<prefix>/cmd/reply``; nothing else happens for a bad command.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from edge.configbase import SAFE_ID
from edge.publish.topics import REPLY, Topics
from edge.records import COMMAND_REPLY_SCHEMA

log = logging.getLogger(__name__)

REPLY_SCHEMA = COMMAND_REPLY_SCHEMA
MAX_PAYLOAD = 16 * 1024
MAX_DEPTH = 8
RATE_PER_S = 2.0
BURST = 5
UNKNOWN = "(unknown)"

CommandHandler = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]


class CommandError(ValueError):
    """A command we will not run; the message goes back to the requester.

    Handlers raise it too, to refuse (``busy: ...``) rather than fail.
    """


def json_depth(payload: bytes, limit: int) -> int:
    """Nesting depth of JSON text, counted without parsing; stops counting past ``limit``."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in payload:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


class TokenBucket:
    """``rate`` commands a second on average, ``burst`` at once; thread-safe."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, float(burst), clock
        self._tokens, self._at = float(burst), clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


@dataclass(frozen=True)
class Reply:
    topic: str
    payload: bytes
    correlation: bytes | None


class CommandRouter:
    """Maps command names to injected handlers (``reload-config``, ``test-capture``, ...)."""

    def __init__(self, topics: Topics, handlers: Mapping[str, CommandHandler],
                 rate_per_s: float = RATE_PER_S, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        for name in handlers:
            if not SAFE_ID.match(name) or name == REPLY:
                raise ValueError(f"bad command name {name!r}")
        self._topics = topics
        self._handlers = dict(handlers)
        # One bucket per known command and one shared by every unknown name (bounded memory).
        self._buckets = {name: TokenBucket(rate_per_s, burst, clock)
                         for name in (*self._handlers, UNKNOWN)}
        self._flooded: set[str] = set()
        self.errors = Counter[str]()
        self.handled = 0

    def add_handler(self, name: str, handler: CommandHandler) -> None:
        """Register one more command (the registry stays a plain name -> handler mapping)."""
        if not SAFE_ID.match(name) or name == REPLY:
            raise ValueError(f"bad command name {name!r}")
        self._handlers[name] = handler
        self._buckets[name] = TokenBucket(RATE_PER_S, BURST)

    def handle(self, topic: str, payload: bytes, properties: Any) -> Reply | None:
        """Run one command message; None for our own replies and topics not ours."""
        name = self._topics.command_name(topic)
        if name is None or name == REPLY:
            return None
        reply_to = self._reply_topic(properties)
        correlation = getattr(properties, "CorrelationData", None)
        try:
            self._admit(name)
            handler = self._handler(name)
            args = self._arguments(payload)
        except CommandError as exc:
            self.errors["command_rejected"] += 1
            # A flood is logged once, not once per message: the journal is not a victim too.
            quiet = getattr(exc, "quiet", False)
            log.log(logging.DEBUG if quiet else logging.WARNING, "rejected command %r: %s",
                    name[:64], exc)
            return self._reply(reply_to, correlation, name, ok=False, error=str(exc))
        try:
            result = handler(args)
        except CommandError as exc:  # the handler refused (busy, not now): not a failure
            self.errors["command_refused"] += 1
            log.debug("refused command %s: %s", name, exc)  # answered and counted
            return self._reply(reply_to, correlation, name, ok=False, error=str(exc))
        except Exception as exc:  # a failing handler must not take the unit down
            self.errors["command_failed"] += 1
            log.exception("command %s failed", name)
            return self._reply(reply_to, correlation, name, ok=False,
                               error=f"failed: {exc.__class__.__name__}: {str(exc)[:200]}")
        self.handled += 1
        return self._reply(reply_to, correlation, name, ok=True, result=dict(result or {}))

    def _admit(self, name: str) -> None:
        key = name if name in self._handlers else UNKNOWN
        if self._buckets[key].take():
            self._flooded.discard(key)
            return
        self.errors["command_rate_limited"] += 1
        exc = CommandError("rate limited: too many commands of this name; try again later")
        exc.quiet = key in self._flooded  # type: ignore[attr-defined]  # one log line per flood
        self._flooded.add(key)
        raise exc

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
        if json_depth(payload, MAX_DEPTH) > MAX_DEPTH:
            raise CommandError(f"payload nested deeper than {MAX_DEPTH} levels")
        try:
            args = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
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
