"""The update manager: offer → checks → download → install → shadow trial → promote → probation.

One thread owns every decision; MQTT messages, the trial's end, probation's
verdict and maintainers' commands reach it as events on a queue, so the path's
workers only ever swap one reference and never wait on an install.  Every
outcome (and every refusal, with its step and reason) goes to ``model/status``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import queue
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from edge.records import utc_now
from edge.update.bundle import BundleError, BundleManifest, parse_manifest
from edge.update.checks import Rejected, Trust, check_files, check_offer, read_bundle_dir
from edge.update.config import UpdateConfig
from edge.update.fetch import Download, parse_offer
from edge.update.slot import ClassifierSlot
from edge.update.store import Pointer, StoreError, VersionStore
from edge.update.trial import Probation, ShadowTrial
from edge.update.validators import Context, Validator, validate

log = logging.getLogger(__name__)

STATUS_SCHEMA = "parcel-edge/model-status/1"
COMMAND_WAIT_S = 120.0


def _noop(*_: Any) -> None:
    return None


class UpdateManager:
    """Owns the store, the slot's candidate and the update state of one unit."""

    def __init__(self, cfg: UpdateConfig, ctx: Context, store: VersionStore,
                 slot: ClassifierSlot, loader: Callable[[Path], Any], pointer: Pointer, *,
                 unit: str, validators: Mapping[str, Validator] | None = None,
                 publish: Callable[[dict], None] = _noop,
                 want_chunks: Callable[[tuple[str, str] | None], None] = _noop,
                 on_step: Callable[[str], None] = _noop) -> None:
        self.cfg, self.ctx, self.store, self.slot = cfg, ctx, store, slot
        self.loader, self.unit, self.validators = loader, unit, validators
        self.publish, self.want_chunks, self.on_step = publish, want_chunks, on_step
        self.trust = Trust(tuple(cfg.trusted_keys), cfg.threshold)
        self.pointer = pointer
        self.phase = "idle"
        self.last: dict[str, Any] | None = None
        self.trial: dict[str, Any] | None = None
        self.errors = 0
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._download: Download | None = None
        self._download_started = 0.0
        self._candidate: tuple[BundleManifest, Any] | None = None
        self._previous: Any = None
        self._trial: ShadowTrial | None = None
        self._last_offer: bytes | None = None
        self._seen_offers: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if pointer.probation:
            self._start_probation()

    # -- thread ------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="update", daemon=True)
        self._thread.start()
        self._report()

    def stop(self, timeout: float = 10.0) -> None:
        if self._trial is not None:
            self._trial.close()
        self._stop.set()
        self._events.put(("stop", None))
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def post(self, kind: str, value: Any = None) -> None:
        self._events.put((kind, value))

    def command(self, name: str, args: Mapping[str, Any] | None = None,
                timeout: float = COMMAND_WAIT_S) -> dict[str, Any]:
        """Run a maintainer's command on the manager's thread; raises ValueError if refused."""
        reply: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.post("command", (name, dict(args or {}), reply))
        try:
            ok, result = reply.get(timeout=timeout)
        except queue.Empty:
            raise ValueError(f"{name}: the update manager did not answer in {timeout:g} s") \
                from None
        if not ok:
            raise ValueError(result)
        return dict(result)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                kind, value = self._events.get(timeout=0.5)
            except queue.Empty:
                kind, value = "tick", None
            try:
                self._handle(kind, value)
            except Exception:  # the unit keeps running whatever an update does
                self.errors += 1
                log.exception("update manager failed on %s", kind)
                self._abandon("internal", "unexpected error; see the unit's log")

    def _handle(self, kind: str, value: Any) -> None:
        handlers: dict[str, Callable[[Any], None]] = {
            "offer": self._on_offer, "chunk": self._on_chunk, "local": self._on_local,
            "trial-done": self._on_trial_done, "probation-end": self._on_probation_end,
            "command": self._on_command, "tick": self._on_tick, "stop": _noop}
        handlers[kind](value)

    # -- offers and downloads ---------------------------------------------------------------
    def _on_offer(self, payload: bytes, force: bool = False) -> None:
        self._last_offer = payload
        digest = hashlib.sha256(payload).hexdigest()
        if self.phase != "idle" or (digest in self._seen_offers and not force):
            return
        self._seen_offers.add(digest)
        try:
            manifest_bytes, sigs, chunk = parse_offer(payload)
            manifest = self._check(manifest_bytes, sigs)
            if manifest is None:
                return
            self._download = Download(self.store.staging, manifest, manifest_bytes, sigs, chunk)
        except Rejected as exc:
            self._refuse(None, exc)
            return
        except ValueError as exc:
            self._refuse(None, Rejected("size", str(exc)))
            return
        self.phase, self._download_started = "downloading", time.monotonic()
        self.want_chunks((manifest.name, manifest.version))
        self._report()
        if self._download.complete:
            self._finish_download()

    def _check(self, manifest_bytes: bytes, sigs: Any) -> BundleManifest | None:
        """The offer's checks; None for an offer already dealt with (retained, seen again)."""
        try:
            manifest = check_offer(manifest_bytes, sigs, self.trust, self.pointer.highest,
                                   int(self.cfg.max_bundle_mb * 1_000_000))
        except Rejected as exc:
            if exc.step == "version" and self._known(manifest_bytes):
                return None
            raise
        if manifest.version in self.pointer.rejected:
            log.info("update %s was refused before (%s); ignoring its offer", manifest.version,
                     self.pointer.rejected[manifest.version])
            return None
        return manifest

    def _known(self, manifest_bytes: bytes) -> bool:
        """A signed offer of a version this unit runs, kept or refused: no news, no report."""
        try:
            version = parse_manifest(manifest_bytes).version
        except BundleError:
            return False
        p = self.pointer
        return version in (p.current, p.previous) or version in p.rejected

    def _on_chunk(self, value: tuple[str, str, int, int, bytes]) -> None:
        name, version, index, chunk, data = value
        d = self._download
        if d is None or self.phase != "downloading" or \
                (name, version) != (d.manifest.name, d.manifest.version):
            return
        d.accept(index, chunk, data)
        if d.complete:
            self._finish_download()
        elif d.received % 16 == 0:
            self._report()

    def _on_tick(self, _: Any) -> None:
        offer = self._last_offer
        if self.phase == "idle" and offer is not None and \
                hashlib.sha256(offer).hexdigest() not in self._seen_offers:
            self._on_offer(offer)  # a newer offer that came while another update was busy
        d = self._download
        if d is None or self.phase != "downloading":
            return
        if time.monotonic() - self._download_started > self.cfg.download_timeout_s:
            missing = d.total_chunks - d.received
            self._abandon("files", f"download incomplete after {self.cfg.download_timeout_s:g} "
                          f"s: {missing} of {d.total_chunks} chunks missing, {d.refused} "
                          "refused for a wrong size (truncated or oversized)",
                          version=d.manifest.version)

    def _finish_download(self) -> None:
        d = self._download
        assert d is not None
        self.want_chunks(None)
        self._install(d.manifest, d.assemble(), d.discard)

    def _on_local(self, bundle: Path) -> None:
        """A bundle folder on this machine (``model install``): the same checks, no download.

        A maintainer's explicit install ends a running probation (the version on
        probation becomes the previous one); it waits for nothing else.
        """
        if self.phase not in ("idle", "probation"):
            raise Rejected("busy", f"an update is already {self.phase}")
        try:
            manifest_bytes, sigs = read_bundle_dir(bundle)
            manifest = self._check(manifest_bytes, sigs)
        except Rejected as exc:
            self._refuse(None, exc)
            raise
        if manifest is None:
            raise Rejected("version", f"{bundle}: this version is installed here or was "
                           "refused before")
        files = self.store.staging / manifest.version / "local"
        shutil.rmtree(files.parent, ignore_errors=True)
        files.mkdir(parents=True)
        for name in ("bundle.json", "signatures.json", *manifest.components):
            src = bundle / name
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, files / name)
        self._install(manifest, files, lambda: shutil.rmtree(files.parent, ignore_errors=True))

    # -- install, trial, promotion ----------------------------------------------------------
    def _install(self, manifest: BundleManifest, files: Path, cleanup: Callable[[], None]
                 ) -> None:
        self.phase = "checking"
        self._report()
        try:
            check_files(files, manifest)
            self.on_step("files-checked")
            folder = self.store.stage(manifest.version, files, self.pointer.current, self.on_step)
            ctx = dataclasses.replace(self.ctx, golden=manifest.golden)
            validate(folder, manifest, ctx, self.validators)
            candidate = self.loader(folder)
            if not getattr(candidate, "available", True):
                raise Rejected("loads", getattr(candidate, "error", "did not load"))
        except Rejected as exc:
            cleanup()
            self._refuse(manifest.version, exc)
            return
        finally:
            self._download = None
        cleanup()
        self._candidate = (manifest, candidate)
        self.on_step("validated")
        self._begin_trial()

    def _begin_trial(self) -> None:
        assert self._candidate is not None
        parcels = self.cfg.shadow.parcels
        if parcels == 0:
            self._after_trial({"parcels": 0, "of": 0, "disagreement_rate": 0.0})
            return
        trial = ShadowTrial(self._candidate[1], parcels,
                            lambda summary: self.post("trial-done", summary))
        self.slot.shadow(trial)
        self.phase, self.trial = "trial", trial.summary()
        self._trial = trial
        self._report()

    def _on_trial_done(self, summary: dict[str, Any]) -> None:
        if self.phase != "trial":
            return
        self._end_shadow()
        self._after_trial(summary)

    def _end_shadow(self) -> None:
        self.slot.shadow(None)
        if self._trial is not None:
            self._trial.close()

    def _after_trial(self, summary: dict[str, Any]) -> None:
        assert self._candidate is not None
        self.trial = summary
        bound = self.cfg.shadow.max_disagreement
        if summary["disagreement_rate"] > bound or summary.get("candidate_errors", 0):
            version = self._candidate[0].version
            self._candidate = None
            self._refuse(version, Rejected("shadow", f"candidate disagreed on "
                         f"{summary['disagreement_rate']:.1%} of {summary['parcels']} parcels "
                         f"(bound {bound:.1%}), {summary.get('candidate_errors', 0)} errors"))
            return
        if self.cfg.shadow.auto_promote:
            self._promote()
        else:
            self.phase = "awaiting-promote"
            self._report()

    def _promote(self) -> None:
        assert self._candidate is not None
        manifest, candidate = self._candidate
        self.pointer = self.store.promote(manifest.version, self.on_step)
        self._previous = self.slot.swap(candidate)
        self._candidate = None
        self._result(manifest.version, "promoted", "shadow", f"trial {json.dumps(self.trial)}; "
                     + ("probation follows" if self.cfg.probation.parcels else "no probation"))
        self._start_probation()

    def _start_probation(self) -> None:
        if self.cfg.probation.parcels == 0:
            self.pointer = self.store.end_probation()
            self.phase = "idle"
            return
        baseline = float((self.trial or {}).get("flag_rate_current", 0.0))
        probation = Probation(self.cfg.probation,
                              lambda reason, figures: self.post("probation-end", (reason, figures)),
                              baseline)
        self.slot.watch(probation)
        self.phase = "probation"
        self._report()

    def _on_probation_end(self, value: tuple[str | None, dict]) -> None:
        reason, figures = value
        if self.phase != "probation":
            return
        self.slot.watch(None)
        if reason is None:
            self.pointer = self.store.end_probation()
            self._previous = None
            self.phase = "idle"
            self._result(self.pointer.current, "stable", "probation",
                         f"passed probation: {json.dumps(figures, sort_keys=True)}")
            return
        self._roll_back(f"probation: {reason}")

    def _roll_back(self, reason: str) -> None:
        version = self.pointer.current
        previous = self._previous
        if previous is None and self.pointer.previous:
            previous = self.loader(self.store.path(self.pointer.previous))
        if previous is None or not getattr(previous, "available", True):
            raise StoreError("no loadable previous version to roll back to")
        self.pointer = self.store.rollback(reason)
        self.slot.swap(previous)
        self._previous = None
        self.phase = "idle"
        self._result(version, "rolled_back", "probation", reason)

    # -- commands -------------------------------------------------------------------------------
    def _on_command(self, value: tuple[str, dict, queue.Queue]) -> None:
        name, args, reply = value
        try:
            result = self._run_command(name, args)
        except (Rejected, StoreError, ValueError) as exc:
            reply.put((False, str(exc)))
            return
        reply.put((True, result))

    def _run_command(self, name: str, args: dict) -> dict[str, Any]:
        if name == "promote":
            if self.phase not in ("trial", "awaiting-promote") or self._candidate is None:
                raise ValueError(f"nothing to promote (phase {self.phase})")
            self._end_shadow()
            self._promote()
        elif name == "rollback":
            self._command_rollback()
        elif name == "install":
            if self._last_offer is None:
                raise ValueError("no offer received yet")
            self._on_offer(self._last_offer, force=True)
        elif name == "install-local":
            self._on_local(Path(args["bundle"]))
        elif name != "status":
            raise ValueError(f"unknown update command {name!r}")
        return self.status()

    def _command_rollback(self) -> None:
        if self.phase in ("trial", "awaiting-promote") and self._candidate is not None:
            self._end_shadow()
            version = self._candidate[0].version
            self._candidate = None
            self._refuse(version, Rejected("maintainer", "refused by a maintainer"))
            return
        if not self.pointer.previous:
            raise ValueError("no previous version to roll back to")
        self.slot.watch(None)
        self._roll_back("rolled back by a maintainer")

    # -- outcomes and status ------------------------------------------------------------------
    def _refuse(self, version: str | None, exc: Rejected) -> None:
        log.warning("update %s refused at %s: %s", version or "offer", exc.step, exc.reason)
        if version is not None and exc.step not in ("version", "busy"):
            self.pointer = self.store.reject(version, f"{exc.step}: {exc.reason}")
        self.phase = self._resting()
        self._result(version, "rejected", exc.step, exc.reason)

    def _abandon(self, step: str, reason: str, version: str | None = None) -> None:
        self.want_chunks(None)
        self._download = None
        self.phase = self._resting()
        self._result(version, "failed", step, reason)

    def _resting(self) -> str:
        """Where a refused update leaves the unit: in the running version's probation, or idle."""
        return "probation" if self.slot.watching else "idle"

    def _result(self, version: str | None, result: str, step: str, reason: str) -> None:
        self.last = {"version": version, "result": result, "step": step, "reason": reason,
                     "time_utc": utc_now()}
        self._report()

    def status(self) -> dict[str, Any]:
        d, info = self._download, self.slot.info
        trial = self._trial.summary() if self.phase == "trial" else self.trial
        return {
            "schema": STATUS_SCHEMA, "unit": self.unit, "time_utc": utc_now(), "phase": self.phase,
            "installed": {"version": self.pointer.current, "previous": self.pointer.previous,
                          "highest": self.pointer.highest, "probation": self.pointer.probation,
                          "model": {"name": info.name, "version": info.version,
                                    "sha256": info.sha256} if info else None},
            "pending": {"version": d.manifest.version, "chunks": d.received,
                        "of": d.total_chunks, "refused": d.refused} if d else
            ({"version": self._candidate[0].version} if self._candidate else None),
            "trial": trial, "last": self.last, "errors": self.errors}

    def _report(self) -> None:
        try:
            self.publish(self.status())
        except Exception as exc:  # status is best effort; the decision is already durable
            log.warning("model status not published: %s", exc)
