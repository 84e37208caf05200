"""The fused PP-OCR models: used only beside the wheel they were made from, and reading the same."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from edge import ocr, ocr_models
from tests.unit.test_ocr import _word

pytest.importorskip("rapidocr_onnxruntime")


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "ocr"
    shutil.copytree(ocr_models.FUSED_DIR, folder)
    return folder


def _edit(folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = folder / ocr_models.MANIFEST
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_shipped_fused_models_fit_the_installed_wheel() -> None:
    found = ocr_models.fused_models(ocr_models.FUSED_DIR)
    assert sorted(found) == sorted(ocr_models.ROLES)
    assert ocr.RapidOcr().fused


def test_fused_and_wheel_models_read_the_same_words_and_boxes() -> None:
    fused = ocr.RapidOcr(any_angle=True)
    wheel = ocr.RapidOcr(any_angle=True, fused=None)
    assert fused.fused and not wheel.fused
    for text, size in (("LUMERO", 40), ("NORVEX 2", 56), ("ORBlQ", 30)):
        image = _word(text, size)
        a, b = fused.read_lines(image), wheel.read_lines(image)
        assert [t.text for t in a] == [t.text for t in b]
        assert np.allclose([t.box for t in a], [t.box for t in b], atol=1.0)
        assert np.allclose([t.confidence for t in a], [t.confidence for t in b], atol=2e-3)


@pytest.mark.parametrize("change, reason", [
    (lambda d: d.update(version="0.0.1"), "installed is rapidocr-onnxruntime"),
    (lambda d: d["models"]["rec"].update(source_sha256="0" * 64), "made from another"),
    (lambda d: d["models"]["det"].update(sha256="f" * 64), "not the file models.det.sha256"),
    (lambda d: d["models"].pop("cls"), "key 'models.cls' is missing"),
])
def test_fused_models_that_do_not_fit_are_refused_with_the_reason(tmp_path: Path, change,  # type: ignore[no-untyped-def]
                                                                   reason: str) -> None:
    folder = _copy(tmp_path)
    _edit(folder, change)
    with pytest.raises(ocr_models.OcrModelsError, match=reason):
        ocr_models.fused_models(folder)


def test_a_damaged_fused_file_falls_back_to_the_wheel_models_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _copy(tmp_path)
    (folder / "rec.onnx").write_bytes(b"\0" * 100)
    with caplog.at_level(logging.WARNING, logger="edge.ocr_models"):
        engine = ocr.RapidOcr(fused=folder)
    assert not engine.fused
    assert "rec.onnx: missing or not the file models.rec.sha256 names" in caplog.text
    assert [t.text for t in engine.read_lines(_word("LUMERO"))] == ["LUMERO"]


def test_an_unreadable_manifest_is_one_clear_reason(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / ocr_models.MANIFEST).write_text("{not json")
    with pytest.raises(ocr_models.OcrModelsError, match=r"manifest.json: unreadable"):
        ocr_models.fused_models(folder)


def test_the_build_script_reproduces_the_shipped_models(tmp_path: Path) -> None:
    """The same rewrites and the same outputs as the shipped files (the bytes also carry the
    onnx package's serialisation, which may change between its releases)."""
    pytest.importorskip("onnx")
    from models import fuse_ocr

    manifest = fuse_ocr.build(tmp_path)
    shipped = json.loads((ocr_models.FUSED_DIR / ocr_models.MANIFEST).read_text())
    for role in ocr_models.ROLES:
        built, ours = manifest["models"][role], shipped["models"][role]
        assert built["rewrites"] == ours["rewrites"]
        assert built["source_sha256"] == ours["source_sha256"]
        assert built["largest_difference"] <= fuse_ocr.TOLERANCE
        same = fuse_ocr.largest_difference((tmp_path / built["file"]).read_bytes(),
                                           (ocr_models.FUSED_DIR / ours["file"]).read_bytes(),
                                           fuse_ocr.CHECK_SHAPES[role])
        assert same < 1e-5
    assert manifest["models"]["det"]["rewrites"]["fuse_hardswish"] > 0


def _tiny_model(second_kernel: int):  # type: ignore[no-untyped-def]
    """Conv -> affine -> hardswish chain -> affine -> Conv (1x1, or 3x3 with zero padding)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    k = second_kernel
    weights = {"w1": rng.normal(size=(4, 3, 3, 3)), "b1": rng.normal(size=4),
               "a": [1.7], "b": [0.4], "three": 3.0, "zero": 0.0, "six": 6.0,
               "c": [0.6], "d": [-0.9], "w2": rng.normal(size=(5, 4, k, k)), "b2": rng.normal(size=5)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["a", "c1"], ["m1"]), helper.make_node("Add", ["m1", "b"], ["y"]),
             helper.make_node("Add", ["y", "three"], ["y3"]),
             helper.make_node("Clip", ["y3", "zero", "six"], ["cl"]),
             helper.make_node("Mul", ["y", "cl"], ["ym"]), helper.make_node("Div", ["ym", "six"], ["h"]),
             helper.make_node("Mul", ["c", "h"], ["hc"]), helper.make_node("Add", ["hc", "d"], ["hd"]),
             helper.make_node("Conv", ["hd", "w2", "b2"], ["out"], pads=[k // 2] * 4)]
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), n) for n, v in weights.items()]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                            [1, 3, 9, 11])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
                              inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


@pytest.mark.parametrize("kernel, folds_into_next", [(1, 1), (3, 0)])
def test_the_folds_keep_what_the_graph_computes(kernel: int, folds_into_next: int) -> None:
    """The affine before a padded conv must stay: padding would see its zeros moved."""
    model = _tiny_model(kernel)
    from models import fuse_ocr

    source = model.SerializeToString()
    fused, counts = fuse_ocr.fuse(model)
    assert counts == {"fold_affine_into_conv": 1, "fuse_hardswish": 1,
                      "fold_affine_into_pointwise": folds_into_next}
    assert fuse_ocr.largest_difference(source, fused.SerializeToString(), [(1, 3, 9, 11)]) < 1e-4
    ops = [n.op_type for n in fused.graph.node]
    assert ops.count("Mul") == (1 - folds_into_next) and "Div" not in ops and "HardSwish" in ops


def test_the_detection_input_is_the_wheels_normalisation_made_in_float32() -> None:
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    det = ocr.RapidOcr()._ocr.text_det
    image = _word("LUMERO", size=50)
    ours = det.get_preprocess(max(image.shape[:2]))(image)
    theirs = DetPreProcess(det.limit_side_len, det.limit_type, det.mean, det.std)(image)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert float(np.abs(ours - theirs).max()) < 1e-6
