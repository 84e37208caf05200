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
from edge.update.config import UpdateConfig


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
    demo: bool = Field(False, description=(
        "a demonstration unit: the synthetic camera is allowed and no broker is needed"))

    _id = field_validator("id")(safe_id)


class ConveyorConfig(Section):
    """The belt under the camera: it sets motion blur and so the longest usable exposure."""

    belt_speed_m_s: float = Field(0.5, gt=0, le=5.0, description="belt speed in m/s")
    field_of_view_mm: float = Field(250.0, ge=50, le=5000, description=(
        "width of the belt the frame covers, in mm; a 600 mm belt needs a 12 MP sensor (4056 px) "
        "to see 0.33 mm bars at 2.2 px per module; the packaging network's patches are cut at "
        "its training's px per mm from this"))
    min_module_mm: float = Field(0.33, ge=0.05, le=5.0,
                                 description="narrowest barcode bar the unit must read, in mm")
    max_blur_modules: float = Field(2.0, gt=0, le=10, description=(
        "longest motion blur the exposure may cause, in module widths; plain decoders lose codes "
        "past about 2, the reader's deconvolution reads several more, so the cap keeps reads cheap"))

    def px_per_module(self, sensor_width_px: int) -> float:
        """Camera pixels across the narrowest bar: below about 1.5 no decoder reads a label."""
        return sensor_width_px * self.min_module_mm / self.field_of_view_mm

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
    camera_stall_s: float = Field(10.0, ge=1, le=600, description=(
        "no frame for this long counts as a failed camera and it is restarted"))
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
    update: UpdateConfig = UpdateConfig()


MIN_PX_PER_MODULE = 1.5


def check_resolution(cfg: EdgeConfig) -> str | None:
    """Why this camera cannot read the narrowest bar over this field of view, and what would; None if it can."""
    width = getattr(cfg.camera, "width", None)
    if not width:
        return None
    conv = cfg.conveyor
    ppm = conv.px_per_module(width)
    if ppm >= MIN_PX_PER_MODULE:
        return None
    need_w = int(MIN_PX_PER_MODULE * conv.field_of_view_mm / conv.min_module_mm + 0.999)
    need_fov = conv.min_module_mm * width / MIN_PX_PER_MODULE
    return (f"camera.width {width} px over conveyor.field_of_view_mm {conv.field_of_view_mm:g} mm with "
            f"{conv.min_module_mm:g} mm bars is {ppm:.2f} px per module; reading needs {MIN_PX_PER_MODULE}: "
            f"a sensor at least {need_w} px wide (Pi HQ camera 4056) or a field of view of at most "
            f"{need_fov:.0f} mm")


def expected_blur_px(cfg: EdgeConfig) -> float | None:
    """The belt's smear in camera pixels (speed x exposure / mm per pixel): the deblurring's prior."""
    width = getattr(cfg.camera, "width", None)
    if not width:
        return None
    exposure_us = getattr(cfg.camera, "exposure_us", None) or cfg.conveyor.max_exposure_us()
    mm_per_px = cfg.conveyor.field_of_view_mm / width
    return cfg.conveyor.belt_speed_m_s * exposure_us * 1e-3 / mm_per_px


def module_px(cfg: EdgeConfig) -> float | None:
    """The narrowest bar in camera pixels (sensor width x module / field of view): the unit
    of the smear the label reader weighs (see :data:`edge.decode.reader.SMEARED_MODULES`)."""
    width = getattr(cfg.camera, "width", None)
    return cfg.conveyor.px_per_module(width) if width else None


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


def describe(err: ValidationError, root: yaml.Node | None, source: str,
             tags: tuple[str, ...] = ()) -> list[str]:
    """One line per error: where (file:line), which key, what is wrong.

    ``tags`` are the discriminated unions' tags (backend types), which pydantic
    puts in an error's path but are not keys of the file.
    """
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p in tags))
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc + ("type",) if e["type"] == "union_tag_invalid" else loc)
        where = f"{source}:{line}" if line else source
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"{where}: {key}: {msg}")
    return lines


def read_yaml(text: str, source: str) -> tuple[yaml.Node | None, dict[str, Any]]:
    """The document's node tree (for line numbers) and its data, a mapping of sections."""
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
    return root, data


def parse_config(text: str, source: str = "<config>") -> EdgeConfig:
    """Validate YAML text; raises :class:`ConfigError` with one line per problem."""
    root, data = read_yaml(text, source)
    try:
        cfg = EdgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, root, source, CAMERAS.types + TRIGGERS.types)) from None
    problem = check_resolution(cfg)
    if problem:
        line = _line_of(root, ("camera", "width")) or _line_of(root, ("conveyor", "field_of_view_mm"))
        raise ConfigError([f"{source}:{line}: {problem}" if line else f"{source}: {problem}"])
    return cfg


def load_config(path: str | Path) -> EdgeConfig:
    """Validate a file; relative paths in it are resolved against the file's folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{p}: cannot read config: {exc.__class__.__name__}: {exc}"]) from None
    return resolve_paths(parse_config(text, str(p)), p.resolve().parent)


PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def resolve_paths(model: Any, base: Path, root: Path = PACKAGE_ROOT) -> Any:
    """Relative paths made absolute: those written in the file against ``base`` (its folder),
    defaults (``models/current``) against the installed package, never the working directory,
    so a unit started from ``/`` by systemd finds the same files as one started by hand."""
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        anchor = base if name in model.model_fields_set else root
        if isinstance(value, Path) and not value.is_absolute():
            updates[name] = anchor / value
        elif isinstance(value, tuple) and any(isinstance(v, Path) for v in value):
            updates[name] = tuple(anchor / v if isinstance(v, Path) and not v.is_absolute()
                                  else v for v in value)
        elif isinstance(value, Section):
            resolved = resolve_paths(value, base, root)
            if resolved is not value:
                updates[name] = resolved
    return model.model_copy(update=updates) if updates else model
