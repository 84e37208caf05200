"""The label reader on real rendered barcodes: every symbology, the fallback ladder, hostile text, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from edge.decode import DecodeConfig, LabelReader, to_gray
from edge.decode.base import RawSymbol
from edge.decode.zxing import ZxingDecoder
from edge.identify import gs1_check_digit, make_s10
from edge.records import Box, Frame, ParcelCapture

ROOT = Path(__file__).resolve().parents[2]
S10 = make_s10("RB", "31415926", "GB")
UPS = "1Z5R89390357567127"
PIC = "92" + "6129270076871194802"
PIC = PIC + gs1_check_digit(PIC)


def symbol(text: str, fmt: str, scale: int = 2, gs1: bool = False, height: int = 70) -> np.ndarray:
    """A barcode drawn by zxing-cpp's writer (gray, quiet zones included)."""
    kwargs = {"gs1": True} if gs1 else {}
    art = np.asarray(zxingcpp.write_barcode_to_image(
        zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt), **kwargs), scale=scale))
    if art.shape[0] < 40:  # 2D codes are square already; 1D ones get a printable bar height
        return art
    return cv2.resize(art, (art.shape[1], height), interpolation=cv2.INTER_NEAREST) if fmt in (
        "Code128", "Code39", "EAN13", "UPCA") else art


def frame(*symbols: np.ndarray, angle: float = 0.0, gain: float = 1.0, blur_px: float = 0.0,
          defocus_px: int = 0, seed: int = 0) -> np.ndarray:
    """A 1280x960 BGR belt frame: a brown box with a white label holding ``symbols`` top to bottom."""
    rng = np.random.default_rng(seed)
    canvas = np.full((960, 1280), 40, np.uint8)
    canvas[150:810, 250:1030] = 140
    y = 220
    for art in symbols:
        h, w = art.shape
        canvas[y - 15:y + h + 15, 320 - 15:320 + w + 15] = 245
        canvas[y:y + h, 320:320 + w] = art
        y += h + 40
    m = cv2.getRotationMatrix2D((640, 480), angle, 1.0)
    img = cv2.warpAffine(canvas, m, (1280, 960), flags=cv2.INTER_LINEAR, borderValue=40).astype(np.float32)
    if blur_px:  # the belt's smear: a box of fractional length along x
        n = int(np.ceil(blur_px)) | 1
        k = np.ones(n, np.float32)
        k[[0, -1]] = 1.0 - (n - blur_px) / 2.0
        img = cv2.filter2D(img, -1, (k / k.sum()).reshape(1, -1))
    if defocus_px:  # a lens out of focus: a uniform disc
        disc = np.zeros((2 * defocus_px + 1,) * 2, np.float32)
        cv2.circle(disc, (defocus_px, defocus_px), defocus_px, 1.0, -1, cv2.LINE_AA)
        img = cv2.filter2D(img, -1, disc / disc.sum())
    noise = rng.normal(0, 2, img.shape) if not (blur_px or defocus_px) else 0.0
    img = np.clip(img * gain + noise, 0, 255).astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


@pytest.fixture(scope="module")
def reader() -> LabelReader:
    """The default budget: it counts work, not time, so a busy test machine reads what an idle one does."""
    return LabelReader(DecodeConfig())


@pytest.mark.parametrize("fmt,text,gs1,kind,value", [
    ("Code128", S10, False, "upu_s10", S10),
    ("Code128", f"(420)10001({PIC[:2]}){PIC[2:]}", True, "usps_impb", PIC),
    ("DataMatrix", UPS, False, "ups", UPS),
    ("QRCode", S10, False, "upu_s10", S10),
    ("PDF417", UPS, False, "ups", UPS),
])
def test_each_symbology_gives_the_reference(reader: LabelReader, fmt: str, text: str, gs1: bool,
                                            kind: str, value: str) -> None:
    reading = reader.read_image(frame(symbol(text, fmt, scale=2 if fmt in ("Code128", "PDF417") else 4, gs1=gs1)))
    assert reading.reference is not None
    assert (reading.reference.kind, reading.reference.value) == (kind, value)
    assert fmt in {s.format for s in reading.symbols}
    assert reading.label_box is not None and reading.attempts >= 1


def _maxicode_message() -> tuple[str, str]:
    """A UPS MaxiCode message as zint's documentation lays it out, and the whole 1Z number it encodes."""
    from edge.identify import ups_check_digit

    body = "06X610" + "01" + "0000495"
    digit = ups_check_digit(body)
    msg = ("[)>\x1e01\x1d96152382802\x1d840\x1d001\x1d1Z0000495" + digit +
           "\x1dUPSN\x1d06X610\x1d159\x1d1234567\x1d1/1\x1d10\x1dY\x1d\x1d\x1dPA\x1e\x04")
    return msg, "1Z" + body + digit


def _sscc() -> str:
    body = "00614141123456789"
    return f"(00){body}{gs1_check_digit(body)}"


@pytest.mark.parametrize("fmt,text,scale,gs1,kind", [
    ("MaxiCode", _maxicode_message()[0], 3, False, "ups"),
    ("Aztec", S10, 4, False, "upu_s10"),
    ("Code93", S10, 2, False, "upu_s10"),
    ("DataBarExp", _sscc(), 2, True, "gs1_sscc"),
    ("ITF14", "1540014128876", 2, False, None),
    ("Codabar", "A40156B", 2, False, None),
    ("DataMatrix", S10, 4, False, "upu_s10"),
])
def test_every_label_symbology_is_read(reader: LabelReader, fmt: str, text: str, scale: int, gs1: bool,
                                       kind: str | None) -> None:
    reading = reader.read_image(frame(symbol(text, fmt, scale=scale, gs1=gs1)))
    expected = {"ITF14": "ITF"}.get(fmt, fmt)
    assert expected in {s.format for s in reading.symbols}
    assert (reading.reference.kind if reading.reference else None) == kind
    if fmt == "MaxiCode":  # the whole UPS number is rebuilt from the message and validates
        assert reading.reference is not None and reading.reference.value == _maxicode_message()[1]


def _hard_renders() -> list[np.ndarray]:
    """Images where zxing-cpp's defaults matter: inverted, huge, JPEG-damaged, small and turned codes."""
    out = []
    big = cv2.resize(symbol(S10, "QRCode", scale=4), None, fx=9, fy=9, interpolation=cv2.INTER_NEAREST)
    out.append(cv2.copyMakeBorder(big, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255))  # needs the pyramid
    out.append(255 - frame(symbol(UPS, "QRCode", scale=3)))  # light on dark
    ok, jpg = cv2.imencode(".jpg", frame(symbol(S10, "DataMatrix", scale=3), angle=17.0), [cv2.IMWRITE_JPEG_QUALITY, 25])
    out.append(cv2.imdecode(jpg, cv2.IMREAD_COLOR))
    out.append(frame(symbol("4006381333931", "EAN13"), symbol(S10, "Aztec", scale=3), angle=5.0))
    out.append(frame(symbol(_sscc(), "DataBarExp", scale=2, gs1=True), gain=0.3))
    out.append(cv2.resize(frame(symbol(UPS, "PDF417", scale=3)), None, fx=2.5, fy=2.5))
    return out


def test_the_reader_never_reads_less_than_plain_zxing_cpp() -> None:
    """Every (format, text) that zxingcpp.read_barcodes(img) finds with its defaults, the reader finds too."""
    reader = LabelReader(DecodeConfig(whole_frame_mpx=8.0))
    for i, img in enumerate(_hard_renders()):
        plain = {(b.format.name, b.text) for b in zxingcpp.read_barcodes(img)}
        ours = {(s.format, s.text) for s in reader.read_image(img).symbols}
        assert plain, f"render {i} should be readable by plain zxing-cpp"
        assert plain <= ours, f"render {i}: plain read {plain - ours} that the reader missed"


def test_retail_and_code39_symbols_are_reported_but_never_the_reference(reader: LabelReader) -> None:
    reading = reader.read_image(frame(symbol("4006381333931", "EAN13"), symbol("3318810025", "Code39")))
    assert {"EAN13", "Code39"} <= {s.format for s in reading.symbols}
    assert reading.reference is None


@pytest.mark.parametrize("angle", [23.0, 137.0, 251.0, 318.0])
def test_rotated_code128_is_located_and_straightened(angle: float) -> None:
    img = frame(symbol(S10, "Code128"), angle=angle, seed=int(angle))
    assert S10 not in {b.text for b in zxingcpp.read_barcodes(img)}  # plain zxing-cpp cannot
    reader = LabelReader(DecodeConfig())
    reading = reader.read_image(img)
    assert reading.reference is not None and reading.reference.value == S10
    assert reader.counters.get("read_by_located_fast", 0) + reader.counters.get("read_by_located", 0) == 1


@pytest.mark.parametrize("text,scene,off,rung", [
    (S10, {"angle": 31.0, "gain": 0.06}, {"enhance": False}, "stretched_located"),
    (UPS, {"blur_px": 4.0, "angle": 10.0}, {"deblur": False}, "deblurred|deblurred_label"),
    (UPS, {"defocus_px": 3, "angle": 8.0}, {"deblur": False}, "deblurred|deblurred_label"),
], ids=["dark-stretched", "motion-deconvolved", "defocus-deconvolved"])
def test_each_fallback_reads_what_nothing_else_does(text: str, scene: dict, off: dict, rung: str) -> None:
    img = frame(symbol(text, "Code128"), **scene)
    without = LabelReader(DecodeConfig(zbar_fallback=False, **off)).read_image(img)
    reader = LabelReader(DecodeConfig())
    reading = reader.read_image(img)
    assert without.reference is None
    assert reading.reference is not None and reading.reference.value == text
    assert any(reader.counters.get(f"read_by_{r}") == 1 for r in rung.split("|"))


def test_spent_budget_stops_the_ladder_after_the_first_rung_and_plain_zxing() -> None:
    """The first rung (2D codes) and plain zxing-cpp, which is never skipped, then nothing."""
    rotated = frame(symbol(S10, "Code128"), angle=40.0)  # neither of those two reads it
    reading = LabelReader(DecodeConfig(budget_attempts=1, locate=False)).read_image(rotated)
    assert reading.attempts == 2 and reading.reference is None
    reading = LabelReader(DecodeConfig(budget_mpx=0.5, locate=False)).read_image(rotated)
    assert reading.attempts == 2 and reading.reference is None
    assert LabelReader(DecodeConfig(locate=False)).read_image(rotated).reference is not None


def test_the_budget_is_work_so_the_same_image_reads_the_same_every_time() -> None:
    img = frame(symbol(UPS, "Code128"), blur_px=4.0, angle=10.0)
    readings = [LabelReader(DecodeConfig(budget_attempts=6)).read_image(img) for _ in range(3)]
    assert len({(r.attempts, r.reference, tuple(s.text for s in r.symbols)) for r in readings}) == 1


@pytest.mark.parametrize("nuisance", ["clean", "rotation", "perspective", "jpeg"])
def test_synthetic_conveyor_stills_read_to_their_true_reference(reader: LabelReader, nuisance: str) -> None:
    from edge.synth import render_still, sample_parcel

    rng = np.random.default_rng(11)
    image, truth = render_still(sample_parcel(rng), rng, (nuisance,))
    reading = reader.read_image(image, box=Box(*truth["parcel_box"]))
    assert reading.reference is not None
    assert {"kind": reading.reference.kind, "value": reading.reference.value} == truth["reference"]


def test_module_size_is_estimated_from_code128(reader: LabelReader) -> None:
    reading = reader.read_image(frame(symbol(S10, "Code128", scale=3)))
    assert reading.module_px is not None and 2.4 < reading.module_px < 3.6


def test_capture_falls_through_to_the_next_frame() -> None:
    blank = np.full((960, 1280, 3), 90, np.uint8)
    frames = (Frame(7, 0.0, "", blank), Frame(8, 0.1, "", frame(symbol(S10, "Code128"))))
    capture = ParcelCapture(1, frames, (Box(250, 150, 780, 660),) * 2, (2.0, 1.0))
    reading = LabelReader(DecodeConfig()).read(capture)
    assert reading.reference is not None and reading.frame_seq == 8
    assert all(s.frame_seq == 8 for s in reading.symbols)
    assert all(250 <= x <= 1030 for s in reading.symbols for x, _ in s.corners)


def test_frames_after_the_one_read_are_never_reduced(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 12 MP parcel read on its sharpest frame pays for no reduced copy of the others."""
    from edge.decode import reader as reader_module

    label = np.full((3040, 4056, 3), 60, np.uint8)
    art = cv2.resize(symbol(S10, "Code128", scale=2), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    label[1000:1600, 1000:1000 + art.shape[1] + 200] = 245
    label[1100:1100 + art.shape[0], 1100:1100 + art.shape[1]] = art[:, :, None]
    blank = np.full_like(label, 90)
    sizes: list[tuple[int, int]] = []
    real = reader_module.cv2.resize

    def counted(img: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        sizes.append(img.shape[:2])
        return real(img, *args, **kwargs)

    monkeypatch.setattr(reader_module.cv2, "resize", counted)
    frames = tuple(Frame(n, 0.0, "", img) for n, img in ((1, label), (2, blank), (3, blank)))
    capture = ParcelCapture(1, frames, (Box(0, 0, 4056, 3040),) * 3, (3.0, 2.0, 1.0))
    reading = LabelReader(DecodeConfig()).read(capture)
    assert reading.reference is not None and reading.frame_seq == 1
    assert sizes.count((3040, 4056)) == 1  # the first frame's reduced copy, once


def test_no_barcode_is_a_no_read_not_an_error(reader: LabelReader) -> None:
    reading = reader.read_image(np.full((960, 1280, 3), 128, np.uint8))
    assert reading.reference is None and reading.symbols == () and reading.attempts >= 1


def test_zbar_alone_reads_gs1_128_with_its_group_separator_exact() -> None:
    img = frame(symbol(f"(420)10001({PIC[:2]}){PIC[2:]}", "Code128", gs1=True))
    reading = LabelReader(DecodeConfig(decoders=("zbar",))).read_image(img)
    assert reading.reference is not None and reading.reference.value == PIC
    assert {s.decoder for s in reading.symbols} == {"zbar"}
    assert any("\x1d" in s.text for s in reading.symbols)


@pytest.mark.parametrize("bad", [None, np.zeros((0, 0), np.uint8), np.zeros((10, 10), np.float32),
                                 np.zeros((4, 4, 4, 4), np.uint8), "image.png"])
def test_non_images_are_refused_with_value_error(bad: object) -> None:
    with pytest.raises(ValueError):
        to_gray(bad)  # type: ignore[arg-type]


def test_hostile_text_is_kept_exact_and_never_the_reference(reader: LabelReader) -> None:
    hostile = "\x1b[2J../../etc/+/#\x00'; DROP TABLE parcels;--"
    img = frame(symbol(hostile, "QRCode", scale=4),
                symbol(make_s10("RB", "31415926", "GB")[:-3] + "4GB", "Code128"))  # S10 with a wrong check
    reading = reader.read_image(img)
    plain = {b.text for b in zxingcpp.read_barcodes(img)}  # zxing-cpp's own (HRI) text is the exact form
    assert any("DROP TABLE" in t for t in plain) and plain <= {s.text for s in reading.symbols}
    assert reading.reference is None


def test_long_payload_is_kept_whole_and_counted(reader: LabelReader) -> None:
    before = reader.counters["oversize"]
    reading = reader.read_image(frame(symbol("A" * 1500, "QRCode", scale=2)))
    assert "A" * 1500 in {s.text for s in reading.symbols}
    assert reader.counters["oversize"] > before


class _Flood:
    """A decoder returning a 10 kB control-character payload and then failing, like a broken library."""

    name = "zxing"

    def __init__(self) -> None:
        self.calls = 0

    def decode(self, gray: np.ndarray) -> list[RawSymbol]:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("library fault")
        return [RawSymbol("Code128", "\x07" * 10_000, ((0, 0), (5, 0), (5, 5), (0, 5)))]

    def read_whole(self, image: np.ndarray) -> list[RawSymbol]:
        return self.decode(image)


def test_decoder_faults_and_floods_do_not_crash_the_reader() -> None:
    r = LabelReader(DecodeConfig(decoders=("zxing",)))
    r._decoders["zxing"] = _Flood()
    reading = r.read_image(frame(symbol(S10, "Code128"), angle=40.0))
    assert reading.reference is None and len(reading.symbols) == 1
    assert reading.symbols[0].text == "\x07" * 10_000 and r.counters["oversize"] == 1


@pytest.mark.parametrize("text", ["A\r\nB\tC\\D", "\udcff\udc80 not UTF-8", "\x00\x1b[2J" * 10, "Z" * 100_000,
                                  "../../etc/passwd'; DROP TABLE parcels;--", "\u202egnp.exe"])
def test_json_result_keeps_any_text_exact(text: str) -> None:
    from edge.cli.decode import result_of
    from edge.records import LabelReading, Symbol

    line = json.dumps(result_of("x.png", LabelReading((Symbol("QRCode", text),), None)), ensure_ascii=True)
    assert line.isascii() and "\n" not in line
    assert json.loads(line)["symbols"][0]["text"] == text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edge", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_decode_cli_prints_json_and_reports_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "label.png"
    cv2.imwrite(str(good), frame(symbol(S10, "Code128")))
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    proc = _cli("decode", "--json", str(tmp_path / "empty.png"), str(good), str(tmp_path / "corrupt.jpg"))
    assert proc.returncode != 0
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == 1 and lines[0]["image"] == str(good)
    assert lines[0]["reference"] == {"kind": "upu_s10", "value": S10, "valid": True}
    assert {"format": "Code128", "text": S10} in lines[0]["symbols"]
    errors = proc.stderr.strip().splitlines()
    assert len([e for e in errors if "empty.png" in e or "corrupt.jpg" in e]) == 2


def test_decode_cli_json_is_exact_and_terminal_lines_are_safe(tmp_path: Path) -> None:
    text = "line one\r\nline two\ttab \\ back"
    path = tmp_path / "qr.png"
    cv2.imwrite(str(path), frame(symbol(text, "QRCode", scale=4)))
    proc = _cli("decode", "--json", str(path))
    assert proc.returncode == 0 and json.loads(proc.stdout)["symbols"][0]["text"] == text
    shown = _cli("decode", str(path)).stdout
    assert "\r" not in shown and "line one\\x0d\\x0aline two" in shown


def test_identify_cli_json_and_exit_status() -> None:
    ok = _cli("identify", "--json", S10, UPS)
    assert ok.returncode == 0
    assert [json.loads(x)["kind"] for x in ok.stdout.splitlines()] == ["upu_s10", "ups"]
    bad = _cli("identify", "--json", "RB314159265GB", "../../x")
    assert bad.returncode != 0
    rows = [json.loads(x) for x in bad.stdout.splitlines()]
    assert [(r["kind"], r["valid"]) for r in rows] == [("upu_s10", False), (None, False)]


def test_a_broken_frame_is_skipped_and_the_next_one_read() -> None:
    good = Frame(9, 0.1, "", frame(symbol(S10, "Code128")))
    bad = Frame(8, 0.0, "", np.zeros((10, 10), np.float64))
    reader = LabelReader(DecodeConfig())
    reading = reader.read(ParcelCapture(2, (bad, good), (Box(0, 0, 10, 10), Box(250, 150, 780, 660)), (1.0, 1.0)))
    assert reading.reference is not None and reading.frame_seq == 9
    assert reader.counters["bad_frames"] == 1


def test_a_12_megapixel_frame_is_read_from_a_full_resolution_crop_of_the_label() -> None:
    """At 4056x3040 the bars are too fine for the reduced copy; the label found there is decoded at full size."""
    canvas = np.full((3040, 4056), 60, np.uint8)
    canvas[1800:2700, 2500:3700] = 150  # the parcel
    art = symbol(S10, "Code128", scale=2)
    canvas[2000:2000 + art.shape[0] + 160, 2700:2700 + art.shape[1] + 200] = 245  # the label
    canvas[2080:2080 + art.shape[0], 2800:2800 + art.shape[1]] = art
    reader = LabelReader()
    reading = reader.read_image(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
    assert reading.reference is not None and reading.reference.value == S10
    assert reader.counters.get("read_by_rectified") == 1
    box = reading.label_box
    assert box is not None and abs(box.x - 2800) < 40 and abs(box.y - 2080) < 40


@pytest.mark.parametrize("length", [4.0, 7.0, 11.0])
def test_blur_length_is_estimated_blind_from_the_cepstrum(length: float) -> None:
    from edge.decode import deblur

    img = cv2.cvtColor(frame(symbol(UPS, "Code128"), blur_px=length), cv2.COLOR_BGR2GRAY)
    patch = img[200:320, 300:720]
    assert abs(deblur.row_box_lengths(patch, 40.0)[0] - length) <= 1.0
    profile = deblur.bar_profile(patch)
    assert abs(deblur.box_length(profile, 40.0) - length) <= 1.0


def test_the_patch_estimates_its_smear_only_once_the_installations_has_not_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from edge.decode import deblur

    estimated: list[int] = []
    real = deblur.row_box_lengths
    monkeypatch.setattr(deblur, "row_box_lengths",
                        lambda patch, max_px: estimated.append(1) or real(patch, max_px))
    img = cv2.cvtColor(frame(symbol(UPS, "Code128"), blur_px=7.0), cv2.COLOR_BGR2GRAY)
    tries = deblur.patch_restorations(img[200:320, 300:720], 40.0, prior_px=7.0)
    assert next(tries)[0] == "label motion 7.0px" and not estimated
    rest = [name for name, _ in tries]
    assert estimated == [1] and "label motion 7.0px" not in rest
    # without an installation's smear the estimate comes first
    assert next(deblur.patch_restorations(img[200:320, 300:720], 40.0))[0].startswith("label motion")


@pytest.mark.parametrize("blur", [9.0, 12.0])
def test_reading_smear_restorations_by_rows_only_loses_no_turned_code(
        blur: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The label's smear restorations skip zxing's turned scans; codes at any angle read as before."""
    def reads() -> list[str | None]:
        out = []
        for angle in (0.0, 30.0, 50.0, 60.0, 75.0):
            img = frame(symbol(S10, "Code128"), blur_px=blur, angle=angle, seed=int(angle + blur))
            ref = LabelReader(DecodeConfig(zbar_fallback=False)).read_image(img).reference
            out.append(ref.value if ref else None)
        return out

    rows_only = reads()
    monkeypatch.setattr(ZxingDecoder, "read_rows", ZxingDecoder.decode)
    assert rows_only == reads() and rows_only.count(S10) >= 3


def test_a_smeared_2d_code_is_read_by_deconvolving_the_label() -> None:
    img = frame(symbol(S10, "DataMatrix", scale=3), blur_px=9.0)
    assert LabelReader(DecodeConfig(deblur=False)).read_image(img).reference is None
    reader = LabelReader()
    reading = reader.read_image(img)
    assert reading.reference is not None and reading.reference.value == S10
    assert reader.counters.get("read_by_deblurred_label") == 1


def _printed_label(text: str) -> np.ndarray:
    """A frame whose label carries only the printed id (its barcode torn off), in a Debian TrueType face."""
    from PIL import Image, ImageDraw, ImageFont

    label = Image.new("L", (520, 120), 245)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 34)
    ImageDraw.Draw(label).text((20, 35), text, fill=10, font=font)
    return frame(np.asarray(label))


def test_printed_s10_line_is_read_by_ocr_only_when_its_check_digit_validates() -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    reader = LabelReader(DecodeConfig(ocr=True))
    reading = reader.read_image(_printed_label("RB 3141 5926 8 GB"))
    assert reading.reference is not None and reading.reference.value == S10
    assert [(s.format, s.decoder) for s in reading.symbols] == [("Printed", "ocr")]
    wrong = reader.read_image(_printed_label("RB 3141 5926 4 GB"))
    assert wrong.reference is None and wrong.symbols == ()
    assert LabelReader().read_image(_printed_label("RB 3141 5926 8 GB")).reference is None  # OCR is opt-in


def test_rows_smeared_by_the_belt_are_restored_at_any_patch_width() -> None:
    """The row deconvolution pads to a fast transform length: a patch 997 px wide (a prime,
    the slow case for a plain FFT) is restored as well as one 1024 wide."""
    from edge.decode import deblur

    rng = np.random.default_rng(3)
    for width in (997, 1024):
        bars = np.repeat(rng.integers(0, 2, width // 3 + 1) * 200.0 + 30.0, 3)[:width]
        kernel = deblur.box_kernel(9.0)
        padded = np.pad(bars, 20, mode="edge")
        smeared = np.convolve(padded, kernel, mode="same")[20:-20]
        restored = deblur._wiener_rows(np.tile(smeared, (8, 1)), kernel, 0.003)
        assert restored.shape == (8, width)
        inner = slice(40, width - 40)
        assert np.abs(restored[3, inner] - bars[inner]).mean() < 0.5 * np.abs(smeared[inner] - bars[inner]).mean()


def test_an_installation_that_smears_bars_deblurs_before_the_plain_rungs() -> None:
    """Exposure smearing two bar widths: deblurring right after the first looks reads the same
    code with fewer decoder calls; a sharp installation keeps the plain rungs first."""
    img = frame(symbol(UPS, "Code128", scale=2), blur_px=4.0, angle=10.0)
    late = LabelReader(DecodeConfig(), blur_prior_px=4.0, module_px=4.0)  # one bar: not smeared
    early = LabelReader(DecodeConfig(), blur_prior_px=4.0, module_px=2.0)
    assert not late.smeared and early.smeared
    slow, fast = late.read_image(img), early.read_image(img)
    assert slow.reference == fast.reference and fast.reference is not None
    assert fast.reference.value == UPS
    assert fast.attempts < slow.attempts
    assert not LabelReader(DecodeConfig(), blur_prior_px=4.0).smeared  # bar width unknown


def test_a_smear_under_two_pixels_is_never_undone_and_puts_no_rung_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Fine bars (a macro view) make 1.5 px of smear a bar and a half, but a box kernel that short
    is almost the identity: no smear rung first, and neither look undoes it."""
    from edge.decode import deblur

    undone: list[float] = []
    restore = deblur.smear_restoration
    monkeypatch.setattr(deblur, "smear_restoration",
                        lambda p, n: undone.append(n) or restore(p, n))
    reader = LabelReader(DecodeConfig(), blur_prior_px=1.5, module_px=0.8)
    assert not reader.smeared
    reader.read_image(frame(symbol(UPS, "Code128", scale=2), blur_px=1.5))
    assert all(n >= deblur.MIN_SMEAR_PX for n in undone)
    assert LabelReader(DecodeConfig(), blur_prior_px=2.0, module_px=0.8).smeared


def test_on_a_smeared_belt_the_installations_smear_is_undone_before_regions_and_estimates(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The 2D look, the label with the belt's smear undone, then the half-size regions; the
    patch's own smear estimates only after those, so a clean code costs no estimate."""
    from edge.decode import deblur

    calls: list[str] = []
    estimate, regions = deblur.row_box_lengths, LabelReader._located_fast
    monkeypatch.setattr(deblur, "row_box_lengths", lambda p, m: calls.append("estimate") or estimate(p, m))
    monkeypatch.setattr(LabelReader, "_located_fast", lambda r, v, s: calls.append("regions") or regions(r, v, s))
    reader = LabelReader(DecodeConfig(), blur_prior_px=4.0, module_px=2.0)
    reading = reader.read_image(frame(symbol(UPS, "Code128", scale=2), blur_px=4.0))
    assert reading.reference is not None and reading.reference.value == UPS
    assert reader.counters.get("read_by_smear_label") == 1 and reading.attempts == 2 and calls == []
    reading = reader.read_image(frame(symbol(S10, "Code128", scale=2), angle=35.0, seed=3))
    assert reading.reference is not None and reading.reference.value == S10
    assert reader.counters.get("read_by_located_fast") == 1 and calls == ["regions"]


def test_the_unit_reader_knows_its_smear_in_bar_widths() -> None:
    from edge.config import ConveyorConfig, expected_blur_px, module_px, parse_config

    cfg = parse_config("unit:\n  demo: true\ncamera:\n  type: synthetic\n  width: 1280\n  height: 960\n"
                           "conveyor:\n  field_of_view_mm: 200\n  belt_speed_m_s: 1.0\n")
    assert module_px(cfg) == pytest.approx(ConveyorConfig(field_of_view_mm=200).px_per_module(1280))
    assert expected_blur_px(cfg) == pytest.approx(2.0 * module_px(cfg), rel=0.01)
