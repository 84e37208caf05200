"""Signed over-the-air updates of the model and the brand catalogue.

A maintainer signs a bundle (``parcel-edge model sign``) and publishes it to
the broker (``model publish``); each unit checks it in a fixed order
(:mod:`edge.update.checks`), installs it beside the running version
(:mod:`edge.update.store`), tries it in the shadow of live parcels, swaps it in
between two parcels (:mod:`edge.update.slot`) and rolls back by itself if
probation goes wrong (:mod:`edge.update.trial`).  :func:`build_updater` is what
the composition root calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from edge.update.slot import ClassifierSlot

__all__ = ["ClassifierSlot", "Updater", "build_updater"]


@dataclass
class Updater:
    """What the composition root wires: the slot for the stages, commands, closers."""

    slot: ClassifierSlot
    manager: Any
    store: Any
    link: Any = None

    def start(self) -> None:
        if self.link is not None:
            self.link.start()
        self.manager.start()

    def close(self) -> None:
        self.manager.stop()
        if self.link is not None:
            self.link.stop()
        self.store.close()

    def commands(self) -> dict[str, Callable[[Mapping[str, Any]], Mapping[str, Any]]]:
        """``cmd/model-promote``, ``cmd/model-rollback``, ``cmd/model-install``, ``cmd/model-status``."""
        return {f"model-{name}": (lambda args, n=name: self.manager.command(n))
                for name in ("promote", "rollback", "install", "status")}


def version_loader(classify_cfg: Any) -> Callable[[Path], Any]:
    """Builds the running classifier from an installed version folder."""
    from edge.classify import load_classifier

    def load(folder: Path) -> Any:
        return load_classifier(classify_cfg.model_copy(update=component_dirs(Path(folder))))
    return load


def component_dirs(version: Path) -> dict[str, Path]:
    """The classify config's folders for one version: its model, and its catalogue when it has one.

    A version seeded before catalogues existed has none and keeps the configured one.
    """
    dirs = {"model_dir": version / "model"}
    if (version / "catalogue").is_dir():
        dirs["catalogue_dir"] = version / "catalogue"
    return dirs


def build_updater(cfg: Any, on_change: Callable[[Any], None] | None = None, *,
                  validators: Mapping[str, Any] | None = None, with_link: bool = True,
                  on_step: Callable[[str], None] | None = None) -> Updater:
    """Open the store (recovering from any interrupted install), load its current version."""
    from edge.update.manager import UpdateManager
    from edge.update.store import VersionStore
    from edge.update.validators import Context

    ucfg = cfg.update
    store = VersionStore(ucfg.store_for(cfg.unit.data_dir))
    try:
        pointer = store.open(Path(cfg.classify.model_dir), Path(cfg.classify.catalogue_dir))
    except Exception:
        store.close()
        raise
    loader = version_loader(cfg.classify)
    slot = ClassifierSlot(loader(store.path(pointer.current)), on_change)
    ctx = Context(cfg.classify, ucfg.warmup_runs, ucfg.warmup_budget_ms)
    manager = UpdateManager(ucfg, ctx, store, slot, loader, pointer, unit=cfg.unit.id,
                            validators=validators, **({"on_step": on_step} if on_step else {}))
    link = None
    if with_link and cfg.mqtt is not None:
        link = _link(cfg, manager)
        manager.publish, manager.want_chunks = link.publish_status, link.want
    return Updater(slot, manager, store, link)


def _link(cfg: Any, manager: Any) -> Any:
    from edge.update.mqtt import UpdateLink

    prefix = cfg.mqtt.prefix_for(cfg.unit.id)
    client_id = f"{cfg.mqtt.client_id or 'parcel-edge-' + cfg.unit.id}-update"
    return UpdateLink(cfg.mqtt, client_id[:64], cfg.update.topic, f"{prefix}/model/status",
                      manager.post)
