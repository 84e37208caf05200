"""The one-page photographic standard, rendered from the profile the unit enforces.

Officers, importers and rights holders read this page; the unit enforces the
profile.  Generating one from the other (and a test comparing the committed
page with a fresh rendering) keeps the two the same document.
Write it with ``python -m edge.quality.standard_doc > config/photographic-standard.md``.
"""
from __future__ import annotations

import sys

from edge.package.config import PackageConfig
from edge.quality.config import QualityProfile


def _checks(p: QualityProfile) -> list[tuple[str, str, str]]:
    return [
        ("width, height", "image size in pixels",
         f"{p.min_width}x{p.min_height} to {p.max_width}x{p.max_height}"),
        ("sharpness", "second derivative along the belt at full resolution on the label "
         "(else the parcel), per squared contrast x1000", f"at least {p.min_sharpness:g}"),
        ("brightness", "median luma of the parcel", f"{p.min_brightness:g} to {p.max_brightness:g}"),
        ("shadows", f"share of parcel pixels at or below {p.clip_low}", f"at most {p.max_shadows:g}"),
        ("highlights", f"share of packaging pixels (label excluded) at or above {p.clip_high}",
         f"at most {p.max_highlights:g}"),
        ("glare", f"largest patch {p.glare_delta} levels above the packaging's upper quartile "
         "(or clipped), share of the packaging", f"at most {p.max_glare:g}"),
        ("framing", "smallest gap between parcel and frame edge, share of that side",
         f"at least {p.frame_margin:g}"),
        ("legibility", "pixels per barcode module (where a barcode was read)",
         f"at least {p.min_module_px:g}"),
    ]


def render(profile: QualityProfile, package: PackageConfig) -> str:
    """Markdown for one page; the same inputs always give the same bytes."""
    p = profile
    views = {"parcel": f"whole parcel, cropped to the parcel with {p.view_margin:.0%} margin "
                       "(the whole frame when the parcel was not located)",
             "label": f"label close-up: the label region at full resolution, "
                      f"{package.label_margin_px} px margin"}
    lines = _header(p) + [f"- `{v}`: {views[v]}." for v in p.views]
    lines += _redaction(package) + ["", "## Minimum standard (checked on every frame)", "",
                                    "| check | measured | limit |", "|---|---|---|"]
    lines += [f"| {name} | {what} | {limit} |" for name, what, limit in _checks(p)]
    lines += [
        "", "Exposure is judged on the parcel, not the belt around it. White label paper may",
        "reach the sensor's maximum; clipping and glare are judged on the packaging.",
        "", "## When a frame fails", "",
        "The unit takes the best other frame of the same parcel that meets the standard.",
        "If none does, the parcel is recorded as `quality_reject` with the failed checks,",
        "their measured values and these limits.", "",
    ]
    return "\n".join(lines + _exam(p))


def _exam(p: QualityProfile) -> list[str]:
    """The exam table's views (photographed by an officer's phone, same checks, own minimums)."""
    lines = ["## Exam photos (officer's phone, checked on upload)", "",
             "| view | what | needed | size (px) | sharpness | barcode | scale card | reflection |",
             "|---|---|---|---|---|---|---|---|"]
    for name, v in p.exam_views.items():
        count = ("required" if v.required else "optional") + (
            f", up to {v.max_count}" if v.max_count > 1 else "")
        code = f"at least {v.min_module_px:g} px/module" if v.barcode else "-"
        card = f"at least {v.min_px_per_mm:g} px/mm" if v.scale_required else "-"
        lines.append(f"| `{name}` | {v.title} | {count} | {v.min_long_side}x{v.min_short_side} | "
                     f"at least {v.min_sharpness:g} | {code} | {card} | at most {v.max_reflection:.1%} |")
    return lines + ["", "Exposure, clipping and glare limits are those above. The printable "
                    "Photographic Standards Guide (hub: `/capture/guide.pdf`) carries the scale "
                    "card.", ""]


def _header(p: QualityProfile) -> list[str]:
    return [
        f"# Photographic standard `{p.name}`", "",
        "Generated from the unit's quality profile by `python -m edge.quality.standard_doc`;",
        "do not edit by hand. What this page says is what the unit enforces.", "",
        "## Files", "",
        f"- Type: {p.file_type.upper()}, quality {p.jpeg_quality}, colour space {p.colour_space}, "
        f"{p.bit_depth} bits per channel.",
        "- Each image carries XMP metadata: unit, capture time (UTC), parcel id, reference "
        "number and kind, profile, view, whether redacted.",
        "- Names: `<reference or NOREAD>_<unit>_<YYYYMMDDTHHMMSSZ>_<sequence>_<view>.jpg`, "
        "built only from validated parts; the parcel record sits beside them as "
        "`..._record.json` with the SHA-256 of every image.",
        "", "## Views", "",
    ]


def _redaction(package: PackageConfig) -> list[str]:
    if not package.redact:
        return ["- No redacted copies are made (disabled in the config)."]
    how = "blacked out" if package.redaction_style == "black" else "pixelated"
    return [f"- `parcel-redacted`, `label-redacted`: for sharing outside customs. Text on the "
            f"label is {how} except the barcodes and the reference line beside each; "
            "packaging and brand marks stay visible. No redacted copy is made when no label "
            "was located. The record states the redaction applied."]


if __name__ == "__main__":
    sys.stdout.write(render(QualityProfile(), PackageConfig()))
