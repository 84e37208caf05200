"""Write models/ocr/: the OCR wheel's PP-OCR models with their elementwise chains folded away.

    .venv/bin/python -m models.fuse_ocr [--out models/ocr]

PP-OCRv4's backbone (PP-LCNetV3) follows most convolutions with a learnable
scalar affine (``x * a + b``), a hardswish exported as four elementwise nodes
(``x * clip(x + 3, 0, 6) / 6``) and a second scalar affine.  onnxruntime fuses
none of that, so about 40 % of detection's time went to passes over the
feature maps that do one multiply or add each (profiled on the brand check's
own inputs).  This script rewrites the graph without changing what it computes:

* a scalar affine right after a convolution is folded into its weights and bias;
* the hardswish chain becomes one ``HardSwish`` node (opset 14), which
  onnxruntime then fuses into the convolution before it;
* a scalar affine whose only consumers are 1x1 convolutions without padding is
  folded into those convolutions (with padding it could not be: the padded
  zeros would no longer be zeros of the affine's output).

Each rewritten model is run beside the wheel's on the same inputs and written
only when every output agrees within ``TOLERANCE``.  ``models/ocr/manifest.json``
records the wheel's version and the SHA-256 of each source file, so the unit
uses these files only beside the very models they were made from
(:mod:`edge.ocr_models`).  Needs the ``onnx`` package (the dev and train extras).
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from edge.ocr_models import MANIFEST, ROLES, wheel_models

TOLERANCE = 1e-3
# Inputs of the sizes the unit feeds each model: detection at its 480 px side,
# recognition's 48 px lines from its minimum width to its usual longest, the
# angle classifier's fixed 48x192.
CHECK_SHAPES = {"det": [(1, 3, 480, 384), (1, 3, 224, 352)],
                "rec": [(1, 3, 48, 96), (1, 3, 48, 320)],
                "cls": [(1, 3, 48, 192)]}
OPSET = 14  # HardSwish


def load(path: Path) -> Any:
    """The model at opset 14 with its Constant nodes made initializers (the folds read them)."""
    import onnx
    from onnx import version_converter

    model = onnx.load(str(path))
    keep = []
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            tensor = node.attribute[0].t
            tensor.name = node.output[0]
            model.graph.initializer.append(tensor)
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return version_converter.convert_version(model, OPSET)


class Graph:
    """The node list and weights of one model, with the lookups the folds need."""

    def __init__(self, model: Any) -> None:
        from onnx import numpy_helper

        self.model = model
        self.nodes = list(model.graph.node)
        for i, node in enumerate(self.nodes):  # exported names repeat or are empty
            node.name = f"{node.name}#{i}"
        self.weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.outputs = {o.name for o in model.graph.output}
        self.dead: set[str] = set()

    def consumers(self, name: str) -> list[Any]:
        return [n for n in self.nodes if name in n.input and n.name not in self.dead]

    def only_consumer(self, name: str, op: str) -> Any | None:
        found = self.consumers(name)
        return found[0] if len(found) == 1 and found[0].op_type == op else None

    def scalar(self, node: Any, other_than: str) -> float | None:
        """The value of the node's one scalar initializer input that is not ``other_than``."""
        rest = [i for i in node.input if i != other_than]
        if len(rest) != 1 or rest[0] not in self.weights or self.weights[rest[0]].size != 1:
            return None
        return float(self.weights[rest[0]].ravel()[0])

    def add_weight(self, name: str, value: np.ndarray) -> str:
        self.weights[name] = value.astype(np.float32)
        return name

    def affine_after(self, name: str) -> tuple[Any, Any, float, float] | None:
        """``name * a + b`` as its Mul and Add nodes and a, b, when nothing else reads between."""
        mul = self.only_consumer(name, "Mul")
        a = None if mul is None else self.scalar(mul, name)
        add = None if a is None else self.only_consumer(mul.output[0], "Add")
        b = None if add is None else self.scalar(add, mul.output[0])
        return None if b is None else (mul, add, a, b)  # type: ignore[return-value]

    def finish(self) -> Any:
        from onnx import numpy_helper

        nodes = [n for n in self.nodes if n.name not in self.dead]
        used = {i for n in nodes for i in n.input}
        graph = self.model.graph
        del graph.node[:]
        graph.node.extend(nodes)
        del graph.initializer[:]
        graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in self.weights.items()
                                 if k in used)
        return self.model


def fold_affine_into_conv(g: Graph) -> int:
    """Conv -> Mul(a) -> Add(b) becomes one Conv with weights a*W and bias a*bias + b."""
    count = 0
    for conv in [n for n in g.nodes if n.op_type == "Conv"]:
        found = g.affine_after(conv.output[0])
        if found is None:
            continue
        mul, add, a, b = found
        w = g.weights[conv.input[1]]
        bias = g.weights[conv.input[2]] if len(conv.input) > 2 else np.zeros(w.shape[0])
        conv.input[:] = [conv.input[0], g.add_weight(conv.name + ".w_folded", w * a),
                         g.add_weight(conv.name + ".b_folded", bias * a + b)]
        conv.output[0] = add.output[0]
        g.dead |= {mul.name, add.name}
        count += 1
    return count


def fuse_hardswish(g: Graph) -> int:
    """x -> Add(3) -> Clip(0, 6) -> Mul(x, .) -> Div(6) becomes HardSwish(x)."""
    from onnx import helper

    count = 0
    for add in [n for n in g.nodes if n.op_type == "Add"]:
        x = next((i for i in add.input if i not in g.weights), None)
        chain = _hardswish_chain(g, add, x) if x is not None else None
        if chain is None:
            continue
        clip, mul, div = chain
        node = helper.make_node("HardSwish", [x], [div.output[0]], name=div.name + ".hardswish")
        g.nodes[g.nodes.index(div)] = node
        g.dead |= {add.name, clip.name, mul.name}
        count += 1
    return count


def _hardswish_chain(g: Graph, add: Any, x: str) -> tuple[Any, Any, Any] | None:
    if g.scalar(add, x) != 3.0:
        return None
    clip = g.only_consumer(add.output[0], "Clip")
    if clip is None or [float(np.asarray(g.weights.get(i, np.nan)).ravel()[0]) for i in clip.input[1:]] \
            != [0.0, 6.0]:
        return None
    mul = g.only_consumer(clip.output[0], "Mul")
    if mul is None or x not in mul.input:
        return None
    div = g.only_consumer(mul.output[0], "Div")
    if div is None or div.input[0] != mul.output[0] or g.scalar(div, mul.output[0]) != 6.0:
        return None
    return clip, mul, div


def fold_affine_into_pointwise(g: Graph) -> int:
    """h -> Mul(c) -> Add(d) read only by unpadded 1x1 Convs: c and d go into their weights."""
    count = 0
    for mul in [n for n in g.nodes if n.op_type == "Mul" and n.name not in g.dead]:
        h = next((i for i in mul.input if i not in g.weights), None)
        if h is None or g.scalar(mul, h) is None:
            continue
        add = g.only_consumer(mul.output[0], "Add")
        d = None if add is None else g.scalar(add, mul.output[0])
        readers = [] if d is None else g.consumers(add.output[0])
        if not readers or add.output[0] in g.outputs or not all(_pointwise(g, k, add.output[0])
                                                                  for k in readers):
            continue
        c = g.scalar(mul, h)
        for conv in readers:
            w = g.weights[conv.input[1]]
            bias = g.weights[conv.input[2]] if len(conv.input) > 2 else np.zeros(w.shape[0])
            conv.input[:] = [h, g.add_weight(conv.name + ".w_pre", w * c),
                             g.add_weight(conv.name + ".b_pre", bias + d * w.sum(axis=(1, 2, 3)))]
        g.dead |= {mul.name, add.name}
        count += 1
    return count


def _pointwise(g: Graph, conv: Any, source: str) -> bool:
    if conv.op_type != "Conv" or conv.input[0] != source or conv.input[1] not in g.weights:
        return False
    attrs = {a.name: a for a in conv.attribute}
    pads = list(attrs["pads"].ints) if "pads" in attrs else []
    group = attrs["group"].i if "group" in attrs else 1
    auto = attrs["auto_pad"].s.decode() if "auto_pad" in attrs else "NOTSET"
    return (g.weights[conv.input[1]].shape[2:] == (1, 1) and not any(pads) and group == 1
            and auto in ("NOTSET", "VALID"))


PASSES: tuple[Callable[[Graph], int], ...] = (fold_affine_into_conv, fuse_hardswish,
                                              fold_affine_into_pointwise)


def fuse(model: Any) -> tuple[Any, dict[str, int]]:
    """The rewritten model and how many places each pass changed."""
    g = Graph(model)
    counts = {}
    for step in PASSES:
        counts[step.__name__] = step(g)
    return g.finish(), counts


def session(data: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


def largest_difference(source: bytes, fused: bytes, shapes: Iterable[tuple[int, ...]],
                       seed: int = 0) -> float:
    """Largest absolute output difference of the two models on PP-OCR-normalised noise."""
    a, b = session(source), session(fused)
    name = a.get_inputs()[0].name
    rng = np.random.default_rng(seed)
    worst = 0.0
    for shape in shapes:
        x = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
        for ya, yb in zip(a.run(None, {name: x}), b.run(None, {name: x})):
            worst = max(worst, float(np.abs(ya - yb).max()))
    return worst


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(out: Path) -> dict[str, Any]:
    """Fuse, check and write every role's model and the manifest; refuses on any disagreement."""
    package, version, sources = wheel_models()
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for role in ROLES:
        data = sources[role].read_bytes()
        model, counts = fuse(load(sources[role]))
        fused = model.SerializeToString()
        diff = largest_difference(data, fused, CHECK_SHAPES[role])
        if not diff <= TOLERANCE:
            raise SystemExit(f"{role}: fused model differs from the wheel's by {diff:g}")
        (out / f"{role}.onnx").write_bytes(fused)
        files[role] = {"file": f"{role}.onnx", "sha256": sha256(fused),
                       "source": sources[role].name, "source_sha256": sha256(data),
                       "rewrites": counts, "largest_difference": diff}
    manifest = {"package": package, "version": version, "opset": OPSET, "models": files}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/ocr"))
    args = parser.parse_args()
    manifest = build(args.out)
    for role, entry in manifest["models"].items():
        print(f"{role}: {entry['rewrites']} largest difference {entry['largest_difference']:.2g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
