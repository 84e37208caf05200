"""Train the packaging network on surface patches and add it to a model directory.

    .venv/bin/python -m models.train_packaging --model models/current [--photos FOLDER]

Renders training parcels from the generator with their packaging drawn as
materials in any colour (``edge.synth.surfaces``), finds and blanks the
label's paper as the unit does (``edge.process``), cuts the surface patches
the unit cuts (``edge.classify.surface``, moved a little for training), trains
``models.nets.SurfaceNet``, exports it and checks onnxruntime against PyTorch,
then writes ``packaging.onnx``, golden patches and the manifest's ``surface``
entry into ``--model`` (the locator and the mark network stay as they are),
fits the network's fusion with the parcel's broad shading on a split it was
not trained on (``models.shading_fit``, ``edge.classify.shading``) and
measures parcels of two other seeds, drawn as materials and in the scene's own
looks, through the unit's loader.  About 12 minutes on 2 cores (19 on a slower 2-core AMD
EPYC).  ``--fusion-only`` keeps the model's network and refits only the fusion
(about 3 minutes): a change to the fusion's features needs no new network.

``--photos`` adds a site's own photographs (``models.photos``: the packaging,
and where known the label's paper and the picture's px per mm), their patches
cut by the same functions (``models.patches``), each several times moved afresh.
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from edge.classify import ClassifyConfig, load_classifier
from edge.classify.golden import check_golden
from edge.classify.manifest import load_manifest
from edge.classify.session import open_session
from edge.classify.shading import fuse
from edge.classify.surface import patch_packaging
from edge.durable import sha256_file, write_replace
from models import dataset as ds
from models.nets import SurfaceNet
from models import shading_fit
from models.patches import PATCH, PATCHES, PX_PER_MM, photo_set, unit_surface
from models import photos
from models.photos import PhotoError, load_annotations

log = logging.getLogger("train_packaging")
TRAIN_SEED, TEST_SEED, FUSION_SEED = 1101, 4104, 2202
# Patches' readings pooled as probabilities: one patch on tape or a sticker cannot veto the rest
# (edge.classify.surface.patch_packaging).
POOLING = "mean_probability"
INPUT = {"name": "patch", "height": PATCH, "width": PATCH, "layout": "NCHW", "dtype": "float32",
         "colour": "BGR", "scale": 1.0, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0],
         "resize": "area"}


Split = tuple[np.ndarray, np.ndarray, list[float | None]]


def parcel_patches(job: tuple[int, int, bool, bool]) -> tuple[np.ndarray, int, float | None]:
    """One parcel's patches, its packaging's index and its broad shading."""
    seed, index, materials, jitter = job
    cv2.setNumThreads(1)
    p = ds.render(seed, index, 0.7, materials=materials)
    rng = np.random.default_rng([seed, index, 11]) if jitter else None
    patches, shading = unit_surface(p, rng)
    return patches, ds.PACKAGINGS.index(p.truth["packaging"]), shading


def build(seed: int, count: int, materials: bool, jitter: bool, workers: int) -> Split:
    """Patches (N, PATCHES, ...), packagings and shadings of ``count`` parcels of ``seed``."""
    with Pool(workers) as pool:
        items = pool.map(parcel_patches, [(seed, i, materials, jitter) for i in range(count)],
                         chunksize=16)
    return np.stack([it[0] for it in items]), np.int64([it[1] for it in items]), \
        [it[2] for it in items]


def train(patches: np.ndarray, packs: np.ndarray, epochs: int, seed: int) -> SurfaceNet:
    """Every patch labelled with its parcel's packaging; turned, mirrored, contrast varied."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_all = patches.reshape(-1, PATCH, PATCH, 3)
    y_all = torch.from_numpy(np.repeat(packs, PATCHES))
    net = SurfaceNet(len(ds.PACKAGINGS))
    batch, steps = 64, len(x_all) // 64
    opt = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * steps)
    for epoch in range(epochs):
        net.train()
        order, total = rng.permutation(len(x_all)), 0.0
        for b in range(steps):
            idx = order[b * batch:(b + 1) * batch]
            loss = nn.functional.cross_entropy(net(_augment(x_all[idx], rng)), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        log.info("epoch %d/%d loss %.4f", epoch + 1, epochs, total / steps)
    return net.eval()


def _augment(x: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """Turned, mirrored, contrast varied, and each patch given its own focus and sensor noise:
    cameras differ in both, so the material must be told by more than its finest grain."""
    x = np.rot90(x, int(rng.integers(4)), axes=(1, 2))
    if rng.random() < 0.5:
        x = x[:, :, ::-1]
    out = np.ascontiguousarray(x, dtype=np.float32)
    for patch in out:
        sigma = float(rng.uniform(0.0, 1.3))
        if sigma > 0.3:
            cv2.GaussianBlur(patch, (0, 0), sigma, dst=patch)
    out *= rng.uniform(0.7, 1.3, (len(x), 1, 1, 1)).astype(np.float32)
    out += rng.normal(0, 1, out.shape).astype(np.float32) * rng.uniform(
        0, 4, (len(x), 1, 1, 1)).astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(out.transpose(0, 3, 1, 2)))


def tensor(patches: np.ndarray) -> np.ndarray:
    """What the unit feeds (edge.classify.preprocess with INPUT): BGR pixel values, NCHW."""
    return np.ascontiguousarray(patches.astype(np.float32).transpose(0, 3, 1, 2))


def export(net: SurfaceNet, path: Path, sample: np.ndarray) -> float:
    """ONNX (opset 17, batch axis dynamic); returns onnxruntime's max abs diff from PyTorch."""
    import onnxruntime as ort

    x = torch.from_numpy(tensor(sample))
    torch.onnx.export(net, (x[:1],), str(path), dynamo=False, opset_version=17,
                      input_names=["patch"], output_names=["packaging"],
                      dynamic_axes={"patch": {0: "batch"}, "packaging": {0: "batch"}})
    with torch.no_grad():
        want = net(x).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        ["packaging"], {"patch": x.numpy()})[0]
    return float(np.abs(want - got).max())


def install(model: Path, onnx: Path, golden: list[np.ndarray], version: str,
            info: dict[str, Any]) -> None:
    """Write the network, golden patches and the manifest's ``surface`` entry (manifest last)."""
    target = model / "packaging.onnx"
    write_replace(target, onnx.read_bytes())
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["surface"] = {"file": target.name, "sha256": sha256_file(target), "input": INPUT,
                           "outputs": {"packaging": "packaging"}, "patches": PATCHES,
                           "px_per_mm": PX_PER_MM, "pooling": POOLING, **info}
    manifest["version"] = version
    _write_manifest(model, manifest)
    entry = load_manifest(model).surface
    assert entry is not None
    session = open_session(target.read_bytes(), entry, 1)
    for n, (case, patches) in enumerate(zip(manifest["golden"], golden)):
        name = f"golden_{n}_surface.png"
        cv2.imwrite(str(model / name), patches.reshape(-1, PATCH, 3))
        case["surface"] = name
        case["expected"]["surface_packaging"] = patch_packaging(session, entry, patches,
                                                                POOLING).tolist()
    _write_manifest(model, manifest)


def _write_manifest(model: Path, manifest: dict[str, Any]) -> None:
    write_replace(model / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())


def measure(model: Path, tests: dict[str, Split]) -> dict[str, Any]:
    """Packaging right per source, through the unit's own loader (edge.classify): the fused
    reading (what the unit says) and, beside it, the network alone."""
    clf = load_classifier(ClassifyConfig(model_dir=model, threads=1))
    problems = check_golden(clf, model)
    if problems:
        raise SystemExit(f"golden check failed after install: {problems}")
    fusion = clf.manifest.surface_shading if clf.manifest else None
    out: dict[str, Any] = {"seed": TEST_SEED}
    for name, (patches, packs, shadings) in tests.items():
        alone = [clf.run_surface(p) for p in patches]
        fused = [fuse(lp, sh, fusion) if fusion else lp for lp, sh in zip(alone, shadings)]
        for key, logps in ((name, fused), (f"{name}_network_alone", alone)):
            said = np.int64([np.argmax(lp) for lp in logps])
            out[key] = {ds.PACKAGINGS[k]: round(float(np.mean(said[packs == k] == k)), 4)
                        for k in range(len(ds.PACKAGINGS)) if np.any(packs == k)}
            out[key]["all"] = round(float(np.mean(said == packs)), 4)
    return out


def fit_shading(model: Path, split: Split) -> dict[str, Any]:
    """Fit the fusion with broad shading on ``split`` (parcels the network never saw) and
    write it into the manifest's ``surface`` entry; returns the entry written."""
    clf = load_classifier(ClassifyConfig(model_dir=model, threads=1))
    patches, packs, shadings = split
    logp = np.stack([clf.run_surface(p) for p in patches])
    entry = shading_fit.as_manifest(shading_fit.fit(logp, shadings, packs))
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["surface"]["shading"] = entry
    _write_manifest(model, manifest)
    return entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/current"),
                        help="model directory the network is added to (its manifest is updated)")
    parser.add_argument("--parcels", type=int, default=2500, help="training parcels")
    parser.add_argument("--fusion", type=int, default=800,
                        help="parcels of another split the shading fusion is fitted on")
    parser.add_argument("--test", type=int, default=300, help="parcels measured per source")
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--workers", type=int, default=2)
    photos.add_arguments(parser, 8, "times each photograph's patches are cut, each time moved "
                         "afresh (its packaging, and label_box and px_per_mm where known)")
    parser.add_argument("--version", default="1.6.4")
    parser.add_argument("--fusion-only", action="store_true",
                        help="keep the model's network; refit only its shading fusion (a change "
                             "to the fusion's features needs no new network)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.workers)
    start = time.time()
    try:  # a bad annotation is named before minutes of rendering, not after
        for folder in args.photos:
            load_annotations(folder)
    except PhotoError as exc:
        raise SystemExit(f"photographs refused: {exc}") from None
    # Everything is rendered before torch or onnxruntime start threads: a fork after that can hang.
    training = None if args.fusion_only else build(TRAIN_SEED, args.parcels, True, True,
                                                   args.workers)
    fusion_split = build(FUSION_SEED, args.fusion, True, False, args.workers)
    tests = {name: build(TEST_SEED, args.test, materials, False, args.workers)
             for name, materials in (("materials", True), ("scene_looks", False))}
    golden = list(build(TEST_SEED + 1, 2, True, False, 1)[0])
    log.info("parcels rendered (%.0f s)", time.time() - start)
    if training is not None:
        train_network(args, training[0], training[1], golden)
    log.info("shading fusion: %s", json.dumps(fit_shading(args.model, fusion_split)))
    result = measure(args.model, tests)
    manifest = json.loads((args.model / "manifest.json").read_text())
    manifest["surface"]["metrics"] = result
    manifest["version"] = args.version
    _write_manifest(args.model, manifest)
    log.info("done in %.0f s: %s", time.time() - start, json.dumps(result))
    return 0


def train_network(args: argparse.Namespace, patches: np.ndarray, packs: np.ndarray,
                  golden: list[np.ndarray]) -> None:
    """Train on the rendered patches (and the site's photographs), export and install the
    network with its golden patches; the fusion is fitted afterwards, on its own split."""
    if args.photos:  # in this process, after the last fork
        try:
            more, kinds = photo_set(args.photos, args.photo_repeat)
        except PhotoError as exc:
            raise SystemExit(f"photographs refused: {exc}") from None
        patches, packs = np.concatenate([patches, more]), np.concatenate([packs, kinds])
        log.info("photographs: %d sets of patches from %s", len(kinds), args.photos)
    net = train(patches, packs, args.epochs, TRAIN_SEED)
    onnx = args.model / "packaging.onnx.new"
    diff = export(net, onnx, patches[0])
    install(args.model, onnx, golden, args.version,
            {"onnx_vs_torch_max_abs_diff": diff,
             "training": {"parcels": args.parcels, "epochs": args.epochs, "seed": TRAIN_SEED,
                          "fusion": {"parcels": args.fusion, "seed": FUSION_SEED},
                          **({"photographs": len(packs) - args.parcels} if args.photos else {})}})
    onnx.unlink()


if __name__ == "__main__":
    raise SystemExit(main())
