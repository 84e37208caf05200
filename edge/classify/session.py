"""onnxruntime sessions built from verified bytes, checked against the manifest and warmed up.

onnxruntime is imported here, inside functions, so commands that never
classify do not pay for loading it.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from edge.classify.manifest import ModelError, ModelFile


def open_session(data: bytes, entry: ModelFile, threads: int) -> Any:
    """An InferenceSession on ``threads`` intra-op threads, its inputs checked against ``entry``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(data, sess_options=options,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad graphs
        raise ModelError(f"{entry.file}: onnxruntime cannot load it: {_first_line(exc)}") from None
    check_signature(session, entry)
    return session


def check_signature(session: Any, entry: ModelFile) -> None:
    """Refuse a model whose input or outputs differ from what the manifest promises."""
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelError(f"{entry.file}: expected 1 input, model has {len(inputs)}")
    spec, actual = entry.input, inputs[0]
    want = [3, spec.height, spec.width]
    if actual.name != spec.name or list(actual.shape[1:]) != want or actual.type != "tensor(float)":
        raise ModelError(f"{entry.file}: input {actual.name} {actual.shape} {actual.type} does not "
                         f"match the manifest's {spec.name} [N, {want[0]}, {want[1]}, {want[2]}] "
                         f"float32")
    names = {o.name for o in session.get_outputs()}
    missing = sorted(set(entry.outputs.values()) - names)
    if missing:
        raise ModelError(f"{entry.file}: outputs {missing} named by the manifest are missing")


def run(session: Any, entry: ModelFile, tensor: np.ndarray) -> dict[str, np.ndarray]:
    """Outputs by their manifest role (e.g. ``labels``), not their graph names."""
    roles = list(entry.outputs)
    values = session.run([entry.outputs[r] for r in roles], {entry.input.name: tensor})
    return dict(zip(roles, values))


def warm_up(session: Any, entry: ModelFile, runs: int) -> Mapping[str, np.ndarray]:
    """First runs allocate and pick kernels; do that at load, not on the first parcel."""
    zeros = np.zeros((1, 3, entry.input.height, entry.input.width), dtype=np.float32)
    out: Mapping[str, np.ndarray] = {}
    for _ in range(max(1, runs)):
        out = run(session, entry, zeros)
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else exc.__class__.__name__
