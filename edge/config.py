"""The unit's one YAML config, validated as a whole before anything starts.

Each stage and backend owns its section's class; this module only composes
them and turns pydantic's errors into lines that name the key and the line of
the file, because an installer on a Pi reads those lines over SSH.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import Field, ValidationError, field_validator

from edge.camera import CAMERAS
from edge.classify.config import ClassifyConfig
from edge.configbase import Section, safe_id
from edge.decode.config import DecodeConfig
from edge.outbox.config import OutboxConfig
from edge.package.config import PackageConfig
from edge.publish.config import MqttConfig, StatusConfig
from edge.quality.config import QualityProfile
from edge.rules.config import RulesConfig
from edge.trigger import TRIGGERS


class ConfigError(ValueError):
    """A config that cannot be used; ``lines`` are one human-readable error each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


class UnitConfig(Section):
    id: str = "unit-01"
    data_dir: Path = Path("/var/lib/parcel-edge")

    _id = field_validator("id")(safe_id)


class ConveyorConfig(Section):
    """The belt under the camera: it sets motion blur and so the longest usable exposure."""

    belt_speed_m_s: float = Field(0.5, gt=0, le=5.0)
    field_of_view_mm: float = Field(600.0, ge=50, le=5000)
    min_module_mm: float = Field(0.33, ge=0.05, le=5.0)
    max_blur_modules: float = Field(2.0, gt=0, le=10)

    def max_exposure_us(self) -> int:
        """Exposure at which the belt moves ``max_blur_modules`` module widths."""
        metres = self.max_blur_modules * self.min_module_mm / 1000.0
        return max(1, int(metres / self.belt_speed_m_s * 1e6))


class CaptureConfig(Section):
    max_frames: int = Field(12, ge=1, le=120)
    best_frames: int = Field(3, ge=1, le=12)
    min_frames: int = Field(1, ge=1, le=30)
    max_parcel_s: float = Field(10.0, gt=0, le=120)


class PipelineConfig(Section):
    capture_queue: int = Field(8, ge=1, le=1000)
    frame_timeout_s: float = Field(1.0, gt=0, le=60)
    camera_retries: int = Field(5, ge=0, le=1000)


CameraSection = Annotated[Union[CAMERAS.config_classes()], Field(discriminator="type")]  # type: ignore[misc]
TriggerSection = Annotated[Union[TRIGGERS.config_classes()], Field(discriminator="type")]  # type: ignore[misc]


class EdgeConfig(Section):
    unit: UnitConfig = UnitConfig()
    conveyor: ConveyorConfig = ConveyorConfig()
    camera: CameraSection = Field(default_factory=lambda: CAMERAS.module("synthetic").Config())
    trigger: TriggerSection = Field(default_factory=lambda: TRIGGERS.module("motion").Config())
    capture: CaptureConfig = CaptureConfig()
    pipeline: PipelineConfig = PipelineConfig()
    decode: DecodeConfig = DecodeConfig()
    quality: QualityProfile = QualityProfile()
    classify: ClassifyConfig = ClassifyConfig()
    rules: RulesConfig = RulesConfig()
    package: PackageConfig = PackageConfig()
    outbox: OutboxConfig = OutboxConfig()
    mqtt: MqttConfig | None = None
    status: StatusConfig = StatusConfig()


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc``, or of its nearest ancestor."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == key]
            hit = [k for k, v in node.value if k.value == key]
            if not match:
                break
            line = hit[0].start_mark.line + 1
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _describe(err: ValidationError, root: yaml.Node | None, source: str) -> list[str]:
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p in CAMERAS.types + TRIGGERS.types))
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc)
        where = f"{source}:{line}" if line else source
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"{where}: {key}: {msg}")
    return lines


def parse_config(text: str, source: str = "<config>") -> EdgeConfig:
    """Validate YAML text; raises :class:`ConfigError` with one line per problem."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError([f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{source}:1: the top level must be a mapping of sections"])
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, root, source)) from None


def load_config(path: str | Path) -> EdgeConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{p}: cannot read config: {exc.__class__.__name__}: {exc}"]) from None
    return parse_config(text, str(p))
