"""Component validators: each bundle component is loaded and exercised before it may run.

A small explicit registry, like the backends': ``model`` loads the classifier,
checks the golden inputs within their tolerance and times a warm-up;
``catalogue`` loads the brand catalogue with ``edge.catalogue.load_catalogue``
(imported on use, so a unit whose software predates catalogues refuses a
catalogue bundle with a reason instead of failing to start).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from edge.classify.config import ClassifyConfig
from edge.update.bundle import BundleManifest
from edge.update.checks import Rejected


@dataclass(frozen=True)
class Context:
    classify: ClassifyConfig
    warmup_runs: int
    warmup_budget_ms: float
    golden: tuple[Mapping[str, Any], ...] = ()


Validator = Callable[[Path, Context], None]


def validate_model(folder: Path, ctx: Context) -> None:
    """loads → golden → warm-up, on the very files that will be installed."""
    from edge.classify import load_classifier
    from edge.classify.golden import check_golden
    from edge.update import component_dirs

    dirs = component_dirs(folder.parent)  # the model with the catalogue it will run beside
    clf = load_classifier(ctx.classify.model_copy(update={**dirs, "enabled": True}))
    if not clf.available or clf.manifest is None:
        raise Rejected("loads", clf.error or "the classifier did not load")
    if list(clf.manifest.golden) != list(ctx.golden):
        raise Rejected("golden", "the model's golden cases differ from the signed manifest's")
    problems = check_golden(clf, folder)
    if problems:
        raise Rejected("golden", "; ".join(problems[:3]))
    _warm_up(clf, folder, ctx)


def _warm_up(clf: Any, folder: Path, ctx: Context) -> None:
    """The whole classify path on the golden parcels: no error, median within the budget."""
    import cv2

    images = [cv2.imread(str(folder / case["parcel"]), cv2.IMREAD_COLOR) for case in ctx.golden]
    images = [im for im in images if im is not None]
    if not images:
        raise Rejected("warm-up", "no golden parcel image to warm up on")
    times = []
    for n in range(ctx.warmup_runs):
        result = clf.classify(images[n % len(images)], None)
        if not result.available:
            raise Rejected("warm-up", f"classify failed: {result.error}")
        times.append(result.ms)
    median = statistics.median(times)
    if median > ctx.warmup_budget_ms:
        raise Rejected("warm-up", f"median {median:.1f} ms per parcel is over the "
                       f"{ctx.warmup_budget_ms:g} ms budget")


def validate_catalogue(folder: Path, ctx: Context) -> None:
    try:
        from edge.catalogue import CatalogueError, load_catalogue  # type: ignore[import-not-found]
    except ImportError:
        raise Rejected("loads", "this unit's software cannot load a brand catalogue") from None
    try:
        load_catalogue(folder)
    except CatalogueError as exc:
        raise Rejected("loads", f"catalogue: {exc}") from None


VALIDATORS: dict[str, Validator] = {"model": validate_model, "catalogue": validate_catalogue}


def validate(root: Path, manifest: BundleManifest, ctx: Context,
             validators: Mapping[str, Validator] | None = None) -> None:
    """The bundle's components in an installed-to-be version folder, catalogue first.

    Components the bundle does not carry were copied from the running version,
    which passed these checks when it was installed.
    """
    table = dict(VALIDATORS if validators is None else validators)
    for comp in sorted(manifest.components, reverse=True):
        check = table.get(comp)
        if check is None:
            raise Rejected("loads", f"no validator for component {comp!r}")
        check(root / comp, ctx)

