"""MQTT and status sections (owned by the delivery stage, #6)."""
from __future__ import annotations

from pydantic import Field

from edge.configbase import Section


class MqttConfig(Section):
    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)


class StatusConfig(Section):
    interval_s: float = Field(30.0, ge=1, le=3600)
