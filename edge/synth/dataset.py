"""Labelled image sets on disk: NNNNNN.jpg (or .png) plus NNNNNN.json with the truth.

Image ``i`` depends only on (seed, i), never on the count or on the images
before it, so a set can be extended or regenerated in part and stays identical.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from edge.synth import nuisance as nz
from edge.synth.scene import render_still, sample_parcel

log = logging.getLogger(__name__)
FORMATS = ("jpg", "png")


@dataclass(frozen=True)
class DatasetOptions:
    """What goes into a set; ``mixes`` are cycled so every nuisance gets an equal share."""

    mixes: tuple[tuple[str, ...], ...] = tuple((n,) for n in nz.NAMES)
    mark_prob: float = 0.5
    second_code_prob: float = 0.3
    image_format: str = "jpg"
    jpeg_quality: int = 95


def parse_mixes(names: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """``["clean", "rotation+jpeg"]`` -> ``(("clean",), ("rotation", "jpeg"))``; ValueError if unknown."""
    mixes = tuple(tuple(p for p in name.split("+") if p) for name in names)
    for mix in mixes:
        if not mix:
            raise ValueError("empty nuisance name")
        nz.check_names(mix)
    return mixes or DatasetOptions().mixes


def render_item(seed: int, index: int, options: DatasetOptions) -> tuple[np.ndarray, dict]:
    """Image ``index`` of the set seeded ``seed`` and its truth."""
    rng = np.random.default_rng([seed, index])
    spec = sample_parcel(rng, mark_prob=options.mark_prob, second_code_prob=options.second_code_prob)
    mix = options.mixes[index % len(options.mixes)]
    image, truth = render_still(spec, rng, mix)
    truth.update(index=index, dataset_seed=seed)
    return image, truth


def _write_image(path: Path, image: np.ndarray, options: DatasetOptions) -> None:
    params = [cv2.IMWRITE_JPEG_QUALITY, options.jpeg_quality] if options.image_format == "jpg" else []
    ok, buf = cv2.imencode("." + options.image_format, image, params)
    if not ok:
        raise OSError(f"cannot encode {path.name}")
    path.write_bytes(buf.tobytes())


def write_dataset(out_dir: str | Path, count: int, seed: int = 0,
                  options: DatasetOptions = DatasetOptions()) -> list[Path]:
    """Write ``count`` image + truth pairs into ``out_dir``; returns the image paths."""
    if options.image_format not in FORMATS:
        raise ValueError(f"image format must be one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        image, truth = render_item(seed, i, options)
        path = out / f"{i:06d}.{options.image_format}"
        truth["image"] = path.name
        _write_image(path, image, options)
        (out / f"{i:06d}.json").write_text(json.dumps(truth), encoding="utf-8")
        paths.append(path)
        if (i + 1) % 100 == 0:
            log.info("synth: %s of %s images written to %s", i + 1, count, out)
    return paths
