"""The ``update`` section: who may sign bundles, where updates arrive, how a candidate is tried.

Owned by the over-the-air update stage.  Every number has bounds; the trusted
keys are checked here (32-byte Ed25519 public keys, base64) so a typo in a key
fails at ``config check``, not when the first bundle is refused.
"""
from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from edge.configbase import Section

UPDATE_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}(/[A-Za-z0-9_-]{1,32}){0,3}$")


def decode_public_key(text: str) -> bytes:
    """The raw 32 bytes of a base64 Ed25519 public key; ValueError otherwise."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, this one is {len(raw)}")
    return raw


class ShadowConfig(Section):
    """The candidate runs beside the current model on live parcels before it may take over."""

    parcels: int = Field(200, ge=0, le=100_000, description=(
        "live parcels the candidate judges in the shadow; 0 skips the trial"))
    max_disagreement: float = Field(0.05, ge=0.0, le=1.0, description=(
        "highest share of parcels whose top label or flag differs, for promotion"))
    auto_promote: bool = Field(True, description=(
        "promote by itself within the bound; false waits for a maintainer's promote"))


class ProbationConfig(Section):
    """After promotion: what rolls the new version back by itself."""

    parcels: int = Field(200, ge=0, le=100_000, description="parcels watched after promotion")
    max_errors: int = Field(0, ge=0, le=10_000, description="classifier errors tolerated")
    latency_budget_ms: float = Field(2500.0, gt=0, le=10_000, description=(
        "classify stage p95 in ms above which the version is rolled back (the brand check "
        "reads words: ~0.2 s median on the development machine's core, 3-4x on a Pi 5)"))
    max_flag_rate: float = Field(0.5, ge=0.0, le=1.0, description=(
        "share of parcels the model flags above which its verdict mix has collapsed"))
    min_flag_rate: float = Field(0.0, ge=0.0, le=1.0, description=(
        "share below which it has collapsed the other way; 0: only 'nothing flagged where the "
        "previous model flagged 5 or more in the window' counts"))


class UpdateConfig(Section):
    """Signed over-the-air updates of the model and the brand catalogue."""

    enabled: bool = Field(False, description="take signed bundles from the update topic")
    store_dir: Path | None = Field(None, description=(
        "installed versions and the current pointer; default <data_dir>/models"))
    topic: str = Field("parcel-edge/updates", description=(
        "where offers (retained) and bundle chunks are published for this unit's fleet"))
    trusted_keys: tuple[str, ...] = Field((), max_length=16, description=(
        "base64 Ed25519 public keys whose signatures count (several for key rotation)"))
    threshold: int = Field(1, ge=1, le=16, description="distinct trusted signatures a bundle needs")
    max_bundle_mb: float = Field(50.0, gt=0, le=2000, description=(
        "bundles larger than this are refused before any byte is fetched"))
    download_timeout_s: float = Field(900.0, ge=1, le=86_400, description=(
        "a download with chunks still missing after this fails as incomplete"))
    warmup_runs: int = Field(5, ge=1, le=200, description="full classify runs on the golden parcels")
    warmup_budget_ms: float = Field(1500.0, gt=0, le=60_000, description=(
        "median ms per warm-up run above which the candidate is refused (a Pi 5 classifies "
        "in about 0.6-0.9 s with the brand check; a candidate far slower is refused)"))
    shadow: ShadowConfig = ShadowConfig()
    probation: ProbationConfig = ProbationConfig()

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not UPDATE_TOPIC.match(value):
            raise ValueError("1-4 levels of letters, digits, '_' or '-', separated by '/'")
        return value

    @field_validator("trusted_keys")
    @classmethod
    def _keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for n, key in enumerate(value):
            try:
                decode_public_key(key)
            except ValueError as exc:
                raise ValueError(f"trusted_keys[{n}]: {exc}") from None
        return value

    @model_validator(mode="after")
    def _enough_keys(self) -> "UpdateConfig":
        if self.enabled and len(set(self.trusted_keys)) < self.threshold:
            raise ValueError(f"threshold {self.threshold} needs at least that many distinct "
                             "trusted_keys")
        if self.probation.min_flag_rate > self.probation.max_flag_rate:
            raise ValueError("probation.min_flag_rate must not be above max_flag_rate")
        return self

    def store_for(self, data_dir: Path) -> Path:
        return self.store_dir or Path(data_dir) / "models"
