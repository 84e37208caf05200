"""The model's health check: its golden inputs must still give the outputs the manifest recorded.

Run after loading a new model (an over-the-air update) and before swapping it
in: a model that loads but computes something else, or a pre-processing change
that shifts its inputs, fails here instead of on parcels.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.classify import Classifier
from edge.classify.manifest import ModelError, model_path


def check_golden(clf: Classifier, model_dir: Path) -> list[str]:
    """One line per golden input that fails; empty when the model is healthy."""
    if clf.manifest is None or not clf.available:
        return [f"classifier unavailable: {clf.error}"]
    if not clf.manifest.golden:
        return ["the manifest lists no golden inputs"]
    problems = []
    for n, case in enumerate(clf.manifest.golden):
        try:
            problems += _check_case(clf, Path(model_dir), case)
        except (KeyError, TypeError, ValueError, ModelError) as exc:
            problems.append(f"golden {n}: unusable entry: {exc}")
    return problems


def _check_case(clf: Classifier, model_dir: Path, case: dict) -> list[str]:
    images = [cv2.imread(str(model_path(model_dir, case[k])), cv2.IMREAD_COLOR)
              for k in ("parcel", "mark")]
    if any(im is None for im in images):
        return [f"golden {case['parcel']}: image missing or unreadable"]
    out = clf.run_inputs(images[0], [images[1]])
    expected = case["expected"]
    atol = float(case.get("atol", 1e-3))
    got = {"heat_max": np.float32(out["heat"].max()), "packaging": out["packaging"][0],
           "labels": out["labels"][0], "brand": out["brand"][0]}
    if "surface" in case:
        got["surface_packaging"] = clf.run_surface(_patches(model_dir, case["surface"]))
    bad = [k for k in expected if np.abs(np.asarray(expected[k], np.float64) - got[k]).max() > atol]
    return [f"golden {case['mark']}: {k} differs from the manifest by more than {atol}"
            for k in bad]


def _patches(model_dir: Path, name: str) -> np.ndarray:
    """The surface network's golden patches, stored one above the other in one picture."""
    image = cv2.imread(str(model_path(model_dir, name)), cv2.IMREAD_COLOR)
    if image is None or image.shape[0] % image.shape[1]:
        raise ValueError(f"{name}: missing, unreadable or not square patches stacked")
    side = image.shape[1]
    return image.reshape(image.shape[0] // side, side, side, 3)
