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
    """This unit's identity (in every topic, record and file name) and where it keeps data."""

    id: str = Field("unit-01", description="letters, digits, '_' or '-'; unique per facility")
    data_dir: Path = Field(Path("/var/lib/parcel-edge"),
                           description="outbox database and spool; must survive reboots")

    _id = field_validator("id")(safe_id)


class ConveyorConfig(Section):
    """The belt under the camera: it sets motion blur and so the longest usable exposure."""

    belt_speed_m_s: float = Field(0.5, gt=0, le=5.0, description="belt speed in m/s")
    field_of_view_mm: float = Field(600.0, ge=50, le=5000,
                                    description="width of the belt the frame covers, in mm")
    min_module_mm: float = Field(0.33, ge=0.05, le=5.0,
                                 description="narrowest barcode bar the unit must read, in mm")
    max_blur_modules: float = Field(2.0, gt=0, le=10, description=(
        "longest motion blur in module widths; beyond ~2 no decoder reads, "
        "so exposure is capped at this"))

    def max_exposure_us(self) -> int:
        """Exposure at which the belt moves ``max_blur_modules`` module widths."""
        metres = self.max_blur_modules * self.min_module_mm / 1000.0
        return max(1, int(metres / self.belt_speed_m_s * 1e6))


class CaptureConfig(Section):
    """How a parcel's frames are gathered while it passes and which are kept."""

    max_frames: int = Field(6, ge=1, le=120, description="frames held per parcel while it passes (the best)")
    best_frames: int = Field(3, ge=1, le=12, description="frames the later stages may try")
    min_frames: int = Field(1, ge=1, le=30, description="fewer frames than this is noise")
    max_parcel_s: float = Field(10.0, gt=0, le=120,
                                description="a parcel in view longer than this is cut (jam)")


class PipelineConfig(Section):
    """The run loop between camera and stages."""

    capture_queue: int = Field(4, ge=1, le=1000, description=(
        "parcels waiting for the stages; when full a parcel is dropped, counted and logged"))
    frame_timeout_s: float = Field(1.0, gt=0, le=60, description="wait for a frame before counting a time-out")
    camera_retries: int = Field(5, ge=0, le=1000,
                                description="camera restarts in a row before the unit exits")
    workers: int = Field(2, ge=1, le=8, description=(
        "parcels analysed at once; numbering and committing stay in order"))
    capture_queue_mb: int = Field(64, ge=1, le=4096, description=(
        "pixels of the parcels waiting, in MB; one parcel always fits (at 12 MP a capture "
        "is tens of MB, and the queue, not the parcel count, sets the unit's memory)"))


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
        line = _line_of(root, loc + ("type",) if e["type"] == "union_tag_invalid" else loc)
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
