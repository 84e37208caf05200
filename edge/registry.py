"""Explicit backend registries: a ``type`` in the config names a module, imported on use.

A backend's heavy library (picamera2, gpiozero, onnxruntime) is imported only
by the backend module's ``open`` function, so a unit that never uses a Pi
camera never needs picamera2 installed.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable


class Registry:
    """Maps a ``type`` name to ``"module"``; the module exposes ``Config`` and ``open``."""

    def __init__(self, kind: str, entries: dict[str, str]) -> None:
        self.kind = kind
        self._entries = dict(entries)

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def module(self, type_name: str) -> Any:
        try:
            path = self._entries[type_name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise ValueError(f"unknown {self.kind} type {type_name!r} (known: {known})") from None
        return importlib.import_module(path)

    def config_classes(self) -> tuple[type, ...]:
        """Every backend's config class, for the discriminated union of the root config."""
        return tuple(self.module(name).Config for name in self._entries)

    def opener(self, type_name: str) -> Callable[..., Any]:
        return self.module(type_name).open
