"""Barcode text is untrusted: make it printable, unambiguous and short before anything keeps it.

A symbol can carry anything: control characters that rewrite a terminal line,
bidi overrides that make a log lie, ten kilobytes of padding, path and topic
characters.  The safe form escapes every control and format character as
``\\xNN`` / ``\\uNNNN`` (and a backslash as ``\\\\``, so the escaping cannot be
forged), and caps the length.  It is for terminal lines and logs only; records
and JSON keep the exact text (JSON's escaping is safe), and topics, file names
and SQL take their own strict identifiers.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_TEXT = 256
GS = "\x1d"
GS_ESCAPED = "\\x1d"
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class SafeText:
    """The safe form of one untrusted text and whether it had to be cut."""

    text: str
    truncated: bool
    original_len: int


def _escape_char(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize(raw: str | bytes, limit: int = MAX_TEXT) -> SafeText:
    """Escape control/format characters and cap the escaped length at ``limit`` characters."""
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("latin-1")
    out: list[str] = []
    size = 0
    truncated = False
    for ch in raw:
        piece = _escape_char(ch)
        if size + len(piece) > limit:
            truncated = True
            break
        out.append(piece)
        size += len(piece)
    return SafeText("".join(out), truncated, len(raw))


def safe_text(raw: str | bytes, limit: int = MAX_TEXT) -> str:
    """Just the safe text, for callers that do not count truncation."""
    return sanitize(raw, limit).text


def unescape_gs(text: str) -> str:
    """Turn the escaped group separator of a safe text back into FNC1/GS for GS1 parsing."""
    return text.replace(GS_ESCAPED, GS)
