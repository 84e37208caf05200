"""MQTT and status sections (owned by the delivery stage, #6).

Defaults suit a Pi on a facility network: a short keepalive so officers see a
unit go offline within a minute, a reconnect backoff that does not hammer a
broker that is restarting, and a small in-flight window (RAM and fairness).
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from edge.configbase import Section

TOPIC_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,32}(/[A-Za-z0-9_-]{1,32}){0,3}$")
HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")


class TlsConfig(Section):
    """TLS to the broker; a client certificate and key authenticate the unit when given."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _pair(self) -> "TlsConfig":
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class MqttConfig(Section):
    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)
    client_id: str | None = None
    # Default: parcel-edge/<unit id>.
    topic_prefix: str | None = None
    tls: TlsConfig | None = None
    username: str | None = Field(None, min_length=1, max_length=256)
    # A file holding the password keeps the secret out of the config file.
    password_file: Path | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)
    connect_timeout_s: float = Field(10.0, ge=1, le=120)
    backoff_min_s: float = Field(1.0, ge=0.05, le=60)
    backoff_max_s: float = Field(60.0, ge=0.1, le=3600)
    inflight: int = Field(16, ge=1, le=1000)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not HOST.match(value):
            raise ValueError("not a host name or address")
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and not TOPIC_PREFIX.match(value):
            raise ValueError("1-4 levels of letters, digits, '_' or '-', separated by '/'")
        return value

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9_-]{1,64}$", value):
            raise ValueError("1-64 letters, digits, '_' or '-'")
        return value

    @model_validator(mode="after")
    def _backoff(self) -> "MqttConfig":
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError("backoff_max_s must not be below backoff_min_s")
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        return self

    def prefix_for(self, unit_id: str) -> str:
        return self.topic_prefix or f"parcel-edge/{unit_id}"


class StatusConfig(Section):
    interval_s: float = Field(30.0, ge=1, le=3600)
