"""The classifier the pipeline calls, swappable between two parcels.

Each call reads the slot's state once (one reference, replaced whole), so a
parcel is judged entirely by the model it started with; a candidate is fully
loaded, golden-checked and warmed up before it is put here, so no parcel ever
meets a half-loaded model and none waits for a load.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from edge.pyramid import Surface
from edge.records import Box, Classification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _State:
    classifier: Any
    shadow: Any = None
    watch: Any = None


class ClassifierSlot:
    """``classify`` as the stages expect it, plus shadow and probation observers."""

    def __init__(self, classifier: Any, on_change: Callable[[Any], None] | None = None) -> None:
        self._state = _State(classifier)
        self._on_change = on_change
        self.observer_errors = 0
        if on_change:
            on_change(classifier)

    @property
    def classifier(self) -> Any:
        return self._state.classifier

    @property
    def info(self) -> Any:
        return self._state.classifier.info

    @property
    def available(self) -> bool:
        return bool(self._state.classifier.available)

    @property
    def error(self) -> str:
        return str(self._state.classifier.error)

    def classify(self, image: Any, box: Box | None = None,
                 label: Box | None = None, surface: Surface | None = None) -> Classification:
        state = self._state
        result: Classification = state.classifier.classify(image, box, label, surface)
        for observe in (self._shadow_of(state, image, box, label, surface),
                        state.watch and state.watch.observe):
            if observe:
                try:
                    observe(result)
                except Exception:  # an observer never costs a parcel its verdict
                    self.observer_errors += 1
                    log.exception("update observer failed")
        return result

    @staticmethod
    def _shadow_of(state: _State, image: Any, box: Box | None, label: Box | None,
                   surface: Surface | None) -> Any:
        if state.shadow is None:
            return None
        return lambda result: state.shadow.observe(image, box, result, label, surface)

    def shadow(self, trial: Any) -> None:
        """Start (or with None end) a shadow trial beside the current classifier."""
        self._state = _State(self._state.classifier, trial, self._state.watch)

    def swap(self, classifier: Any, watch: Any = None) -> Any:
        """The next parcel is judged by ``classifier``; returns the one it replaces."""
        old = self._state.classifier
        self._state = _State(classifier, None, watch)
        if self._on_change:
            self._on_change(classifier)
        return old

    @property
    def watching(self) -> bool:
        return self._state.watch is not None

    def watch(self, watch: Any) -> None:
        self._state = _State(self._state.classifier, self._state.shadow, watch)

