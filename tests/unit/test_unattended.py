"""Running unattended: the notify protocol, journald priorities, clock sync, the self-test,
hostile commands, test captures that never displace a parcel, a camera absent or stalled."""
from __future__ import annotations

import io
import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from edge.camera import CameraError
from edge.health import Notifier, sd_notify, watchdog_interval_s
from edge.logs import JournalFormatter, LastError, journal_stream, priority
from edge.pipeline import LoopSettings, Pipeline
from edge.publish.commands import CommandError, CommandRouter, json_depth
from edge.publish.topics import Topics
from edge.stats import Stats
from tests.unit.test_pipeline import (EveryFrameTrigger, ListCamera, MemorySink, OneFrameParcels,
                                      frame, stages)

# -- sd_notify --------------------------------------------------------------------------


def listen(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    return sock


def test_notifier_speaks_the_protocol_on_path_and_abstract_sockets(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with listen(path) as sock:
        n = Notifier({"NOTIFY_SOCKET": path})
        assert n.ready("self-test passed\nin 12 ms")
        assert sock.recv(4096) == b"READY=1\nSTATUS=self-test passed in 12 ms"
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        assert n.reloading()
        fields = dict(line.split("=", 1) for line in sock.recv(4096).decode().splitlines())
        assert fields["RELOADING"] == "1"
        assert before <= int(fields["MONOTONIC_USEC"]) <= before + 2_000_000
        assert n.stopping() and sock.recv(4096).startswith(b"STOPPING=1")
    name = f"parcel-edge-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert sd_notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(64) == b"WATCHDOG=1"
    assert not sd_notify("READY=1", {"NOTIFY_SOCKET": "relative/path"})


def test_watchdog_is_ours_only_when_watchdog_pid_is_unset_or_ours() -> None:
    env = {"WATCHDOG_USEC": "30000000"}
    assert watchdog_interval_s(env, pid=42) == 15.0
    assert watchdog_interval_s({**env, "WATCHDOG_PID": "42"}, pid=42) == 15.0
    assert watchdog_interval_s({**env, "WATCHDOG_PID": "43"}, pid=42) is None
    assert watchdog_interval_s({**env, "WATCHDOG_PID": "x"}, pid=42) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}, pid=42) is None


# -- logging ----------------------------------------------------------------------------


def test_journal_stream_is_recognised_by_device_and_inode(tmp_path: Path) -> None:
    with open(tmp_path / "log", "w") as stream:
        st = os.fstat(stream.fileno())
        assert journal_stream(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not journal_stream(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not journal_stream(stream, {})
    assert not journal_stream(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


def test_journal_lines_carry_syslog_priorities_on_every_line() -> None:
    fmt = JournalFormatter("%(name)s: %(message)s")
    try:
        raise ValueError("bad")
    except ValueError:
        import sys
        rec = logging.LogRecord("edge.x", logging.ERROR, __file__, 1, "failed %s", ("it",),
                                sys.exc_info())
    lines = fmt.format(rec).splitlines()
    assert lines[0] == "<3>edge.x: failed it"
    assert len(lines) > 2 and all(line.startswith("<3>") for line in lines)
    assert [priority(lv) for lv in (50, 40, 30, 20, 10, 25)] == [2, 3, 4, 6, 7, 6]


def test_last_error_keeps_the_text_of_the_latest_warning() -> None:
    seen: list[dict] = []
    logger = logging.getLogger("edge.test.lasterror")
    handler = LastError(seen.append)
    logger.addHandler(handler)
    try:
        logger.info("fine")
        logger.warning("camera failed (%s)", "usb gone")
    finally:
        logger.removeHandler(handler)
    assert len(seen) == 1 and seen[0]["text"] == "camera failed (usb gone)"
    assert seen[0]["level"] == "warning"


def test_clock_sync_agrees_with_the_kernel() -> None:
    from edge import clock

    got = clock._adjtimex()
    value = clock.clock_synced(now=1e12)
    if got is None:
        assert value is None
    else:
        assert value == (got[0] != clock.TIME_ERROR and not got[1] & clock.STA_UNSYNC)


def test_records_say_whether_the_clock_was_synchronised() -> None:
    from edge.records import dumps
    from tests.unit.test_records import sample_record as record

    body = json.loads(dumps(record()))
    assert "clock_synced" in body and body["clock_synced"] in (True, False, None)


# -- commands ---------------------------------------------------------------------------


def router(handlers=None, **kw) -> CommandRouter:
    return CommandRouter(Topics("parcel-edge/u1"), handlers or {"ping": lambda a: {"pong": 1}}, **kw)


def reply(r: CommandRouter, name: str, payload: bytes) -> dict:
    out = r.handle(f"parcel-edge/u1/cmd/{name}", payload, None)
    assert out is not None
    return json.loads(out.payload)


def test_deeply_nested_json_is_refused_before_parsing_with_a_reply() -> None:
    hostile = b"[" * 1000 + b"]" * 1000
    assert len(hostile) == 2000
    started = time.perf_counter()
    body = reply(router(), "ping", hostile)
    assert (time.perf_counter() - started) < 0.05
    assert body["ok"] is False and "nested deeper" in body["error"]
    assert reply(router(), "ping", b'{"a": {"b": "[[[[[[[[[[[[[[[[[["}}')["ok"] is True
    assert json_depth(b'{"s": "\\"[[[["}', 8) == 1


def test_oversized_and_non_object_payloads_get_replies() -> None:
    assert "payload over" in reply(router(), "ping", b" " * 20_000)["error"]
    assert "JSON object" in reply(router(), "ping", b"[1]")["error"]
    assert "not JSON" in reply(router(), "ping", b"{\xff")["error"]


def test_each_command_has_its_own_rate_limit() -> None:
    now = [0.0]
    r = router({"ping": lambda a: {}, "other": lambda a: {}}, rate_per_s=1.0, burst=3,
               clock=lambda: now[0])
    answers = [reply(r, "ping", b"{}")["ok"] for _ in range(5)]
    assert answers == [True, True, True, False, False]
    assert "rate limited" in reply(r, "ping", b"{}")["error"]
    assert reply(r, "other", b"{}")["ok"] is True, "one flooded command does not starve another"
    for i in range(50):
        reply(r, f"junk{i}", b"{}")
    assert reply(r, "other", b"{}")["ok"] is True, "unknown names share one bucket"
    now[0] += 2.0
    assert reply(r, "ping", b"{}")["ok"] is True
    assert r.errors["command_rate_limited"] > 0


def test_a_handler_refusal_is_a_reply_not_a_failure() -> None:
    def busy(args):
        raise CommandError("busy: try later")

    r = router({"test-capture": busy})
    body = reply(r, "test-capture", b"{}")
    assert body == {"schema": body["schema"], "command": "test-capture", "ok": False,
                    "error": "busy: try later"}
    assert r.errors["command_refused"] == 1 and not r.errors["command_failed"]


def test_handlers_can_still_be_added_by_name() -> None:
    r = router()
    r.add_handler("resend", lambda a: {"resent": 0})
    assert reply(r, "resend", b"{}")["result"] == {"resent": 0}


# -- the run loop -----------------------------------------------------------------------


class PacedParcels(OneFrameParcels):
    """A parcel every ``every`` frames."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every, self.frames = every, 0

    def push(self, frame, presence):
        self.frames += 1
        return super().push(frame, presence) if self.frames % self.every == 0 else None


class PacedCamera(ListCamera):
    def read(self, timeout: float):
        time.sleep(0.002)
        return super().read(timeout)


def test_a_thousand_test_captures_never_displace_a_real_parcel() -> None:
    sink = MemorySink(delay_s=0.004)
    stats = Stats()
    camera = PacedCamera([frame(i) for i in range(600)])
    assembler = PacedParcels(every=10)
    pipe = Pipeline(camera, EveryFrameTrigger(), assembler, stages(sink), stats,
                    LoopSettings(queue_size=1))
    accepted = []

    def hammer() -> None:
        for _ in range(1000):
            accepted.append(pipe.request_test_capture())
            time.sleep(0.0005)

    t = threading.Thread(target=hammer)
    t.start()
    assert pipe.run(threading.Event()) == 0
    t.join()
    real = [p for p in sink.packages if p.record.trigger != "test"]
    tests = [p for p in sink.packages if p.record.trigger == "test"]
    assert stats.count("dropped.capture_queue_full") == 0
    assert len(real) == 60, "every real parcel went through"
    assert tests and sum(accepted) == len(tests) + stats.count("dropped.test_capture") \
        + (1 if pipe._test_capture.is_set() else 0)
    assert accepted.count(False) > 500, "most requests refused while one is in the path"


class StartFails(ListCamera):
    def __init__(self, items, failures: int) -> None:
        super().__init__(items)
        self.failures = failures

    def start(self) -> None:
        self.starts += 1
        if self.starts <= self.failures:
            raise CameraError("camera 0 not available")


def run_pipe(camera, settings) -> tuple[int, Stats, MemorySink]:
    sink, stats = MemorySink(), Stats()
    pipe = Pipeline(camera, EveryFrameTrigger(), OneFrameParcels(), stages(sink), stats, settings)
    return pipe.run(threading.Event()), stats, sink


def test_a_camera_absent_at_start_is_retried_with_backoff() -> None:
    camera = StartFails([frame(i) for i in range(3)], failures=2)
    code, stats, sink = run_pipe(camera, LoopSettings(retry_base_s=0.001, backpressure=True))
    assert code == 0 and camera.starts == 3 and len(sink.packages) == 3
    assert stats.count("camera_restarts") == 2


def test_a_camera_that_never_comes_ends_the_run_for_systemd_to_restart() -> None:
    camera = StartFails([], failures=100)
    code, stats, _ = run_pipe(camera, LoopSettings(camera_retries=3, retry_base_s=0.001))
    assert code == 1 and camera.starts == 4


def test_a_stalled_camera_is_restarted_then_given_up() -> None:
    class Silent(ListCamera):
        def read(self, timeout: float):
            time.sleep(0.005)
            return None

    camera = Silent([])
    started = time.monotonic()
    code, stats, _ = run_pipe(camera, LoopSettings(camera_retries=2, retry_base_s=0.001,
                                                   stall_s=0.05))
    assert code == 1 and camera.starts == 3
    assert time.monotonic() - started < 5
    assert stats.count("camera_restarts") == 2


# -- the self-test ----------------------------------------------------------------------


def test_selftest_checks_label_model_outbox_and_tries_the_broker(tmp_path: Path) -> None:
    from edge.classify import load_classifier
    from edge.config import load_config
    from edge.selftest import run_selftest

    cfg_file = tmp_path / "unit.yaml"
    cfg_file.write_text("unit:\n  demo: true\nmqtt:\n  host: 127.0.0.1\n  port: 1\n")
    cfg = load_config(cfg_file)
    (tmp_path / "outbox").mkdir()
    stats = Stats()
    stats.incr("frames")
    unit = SimpleNamespace(stats=stats, classifier=load_classifier(cfg.classify),
                           outbox=SimpleNamespace(root=tmp_path / "outbox"),
                           camera_identity=lambda: "synthetic")
    result = run_selftest(cfg, unit)
    by_name = {c.name: c for c in result.checks}
    assert [c.name for c in result.checks] == ["camera", "label", "model", "ocr", "outbox",
                                               "broker"]
    assert by_name["label"].ok and "RR123456785GB" in by_name["label"].detail
    assert by_name["model"].ok and "golden" in by_name["model"].detail
    assert by_name["ocr"].ok and "fused PP-OCR models (det, rec, cls)" in by_name["ocr"].detail
    assert not by_name["ocr"].required, "the wheel's own models still read, only slower"
    assert by_name["outbox"].ok and not list((tmp_path / "outbox").iterdir())
    assert not by_name["broker"].ok and not by_name["broker"].required
    assert result.ok, "an unreachable broker is not required"
    stats_none = Stats()
    unit.stats = stats_none
    from edge import selftest

    failed = selftest.timed("camera", lambda: selftest.camera_frame(lambda: 0, 0.05, str))
    assert not failed.ok and "no frame" in failed.detail


def test_selftest_says_when_the_brand_check_runs_the_wheels_own_ocr_models(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edge import ocr_models, selftest

    monkeypatch.setattr(ocr_models, "FUSED_DIR", tmp_path)  # no fused models there
    check = selftest.timed("ocr", selftest.ocr_models, required=False)
    assert not check.ok and not check.required
    assert "manifest.json: unreadable" in check.detail
    assert "the wheel's own models run" in check.detail
