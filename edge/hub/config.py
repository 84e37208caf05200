"""The hub's config: YAML validated by pydantic, unknown keys rejected, bounds on every number.

Errors name the key and the line, as the unit's config does (the same
``edge.config`` helpers turn pydantic's errors into lines).
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from edge.config import ConfigError, describe, read_yaml
from edge.configbase import SAFE_ID, Section, safe_id
from edge.hub.photos.config import CaptureConfig
from edge.hub.store import ENGINES, DatabaseConfig
from edge.hub.store.sqlite import SqliteConfig
from edge.hub.web.settings import WebConfig
from edge.publish.config import TlsConfig

TOPIC_ROOT = re.compile(r"^[A-Za-z0-9_-]{1,32}(/[A-Za-z0-9_-]{1,32}){0,2}$")
ANY_UNIT = "*"


class HubMqttConfig(Section):
    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)
    # Every process of one hub uses the same group: the broker gives each message to one of them.
    group: str = "parcel-edge-hub"
    # Units publish under <topic_root>/<unit id>/...; the hub publishes under <topic_root>-hub/<hub id>.
    topic_root: str = "parcel-edge"
    client_id: str | None = None      # default <hub id>-<pid>: a fixed id per process
    tls: TlsConfig | None = None
    username: str | None = Field(None, min_length=1, max_length=256)
    password_file: Path | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)
    session_expiry_s: int = Field(7 * 24 * 3600, ge=0, le=30 * 24 * 3600)
    # Unacknowledged messages the broker may have out to this process (MQTT 5 Receive
    # Maximum); the hub acknowledges after each commit, so this window bounds a batch.
    # The broker's own limit applies too (mosquitto: max_inflight_messages, default 20).
    receive_maximum: int = Field(1000, ge=1, le=65535)

    @field_validator("group")
    @classmethod
    def _group(cls, value: str) -> str:
        return safe_id(value)

    @field_validator("topic_root")
    @classmethod
    def _root(cls, value: str) -> str:
        if not TOPIC_ROOT.match(value):
            raise ValueError("must be 1-3 topic levels of letters, digits, '_' or '-'")
        return value


class IngestConfig(Section):
    # The units this hub accepts; anything else on the topics is refused. "*" accepts any (demos).
    units: list[str] = Field(..., min_length=1, max_length=10_000)
    max_json_bytes: int = Field(1_000_000, ge=10_000, le=16_000_000)
    max_image_bytes: int = Field(20_000_000, ge=100_000, le=64_000_000)
    queue: int = Field(2000, ge=10, le=100_000)
    batch_max: int = Field(200, ge=1, le=5000)
    batch_wait_ms: float = Field(20.0, ge=0, le=1000)
    gap_check_s: float = Field(5.0, ge=0.2, le=3600)
    gap_grace_s: float = Field(10.0, ge=0, le=3600)     # out-of-order delivery settles first
    resend_retry_s: float = Field(60.0, ge=1, le=86_400)

    @field_validator("units")
    @classmethod
    def _units(cls, value: list[str]) -> list[str]:
        for unit in value:
            if unit != ANY_UNIT and not SAFE_ID.match(unit):
                raise ValueError(f"unit id {unit[:40]!r} is not a safe id")
        return value


class LockoutConfig(Section):
    max_failures: int = Field(5, ge=1, le=100)
    lock_s: float = Field(900.0, ge=10, le=86_400)


class PasswordsConfig(Section):
    """argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile)."""

    argon2_time_cost: int = Field(3, ge=1, le=20)
    argon2_memory_kib: int = Field(65536, ge=1024, le=4_194_304)
    argon2_parallelism: int = Field(4, ge=1, le=64)


class FacilityConfig(Section):
    """Facts a rights-holder package states besides the images."""

    port: str = Field("", max_length=120)           # e.g. "JFK International Mail Facility"
    origin: str = Field("", max_length=120)         # when every item comes from one origin
    description: str = Field("", max_length=500)


class HubConfig(Section):
    hub_id: str = "hub"
    data_dir: Path = Path("hub-data")
    database: DatabaseConfig = SqliteConfig()
    mqtt: HubMqttConfig = HubMqttConfig()
    ingest: IngestConfig = IngestConfig(units=[ANY_UNIT])
    lockout: LockoutConfig = LockoutConfig()
    passwords: PasswordsConfig = PasswordsConfig()
    facility: FacilityConfig = FacilityConfig()
    aed_path: Path | None = None
    web: WebConfig = WebConfig()
    capture: CaptureConfig | None = None

    @field_validator("hub_id")
    @classmethod
    def _hub_id(cls, value: str) -> str:
        return safe_id(value)


def parse_hub_config(text: str, source: str = "<hub config>") -> HubConfig:
    """Validate YAML text; raises ConfigError with one line per problem (key and line)."""
    root, data = read_yaml(text, source)
    try:
        return HubConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, root, source, tuple(ENGINES))) from None


def load_hub_config(path: str | Path) -> HubConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{p}: cannot read config: {exc.__class__.__name__}"]) from None
    return parse_hub_config(text, str(p))
