"""The ``capture:`` section of the hub's config: the exam station's limits and delivery."""
from __future__ import annotations

from pydantic import Field, field_validator

from edge.configbase import Section, safe_id
from edge.package.config import PackageConfig
from edge.publish.config import MqttConfig
from edge.quality.config import QualityProfile


class CaptureConfig(Section):
    """Guided photo capture at the exam table: upload limits, the standard, where sets go."""

    unit: str = Field("exam-table", description="unit id the exam packages are published as")
    data_dir: str = Field("data/capture",
                          description="accepted photos awaiting filing, and the exam outbox")
    max_upload_mb: float = Field(30.0, ge=1, le=200, description="largest upload, megabytes")
    max_pixels: int = Field(50_000_000, ge=1_000_000, le=200_000_000,
                            description="largest photo in pixels, checked before decoding")
    keep_unfiled_h: float = Field(24.0, ge=1, le=720,
                                  description="hours an unfiled set is kept before it is dropped")
    quality: QualityProfile = Field(default_factory=QualityProfile,
                                    description="the photographic standard, exam views included")
    package: PackageConfig = Field(default_factory=PackageConfig)
    mqtt: MqttConfig | None = Field(None, description="broker the exam packages are delivered to")

    _unit = field_validator("unit")(safe_id)

    @property
    def max_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
