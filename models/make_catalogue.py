"""Write the demo brand catalogue (models/catalogue/) from the synthetic brands' specification.

    .venv/bin/python -m models.make_catalogue [--out models/catalogue]

The five fictional brands of edge.synth.marks get one reference picture each
(their genuine mark printed on white) and an entry with colours, packaging,
value floor and origins.  A real site replaces this folder with its own
recordations; nothing in the unit is specific to these five.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from edge.catalogue import FORMAT, MANIFEST_NAME
from edge.synth import marks

POLICY = {  # brand: (min_value, origins): what the rules compared with the declaration before
    "NORVEX": (40.0, ["DE", "US"]), "KALIMBA": (25.0, ["IT", "FR"]), "ZENTRO": (15.0, ["JP"]),
    "ORBIQ": (60.0, ["US", "KR"]), "LUMERA": (30.0, ["FR"]),
}


def reference(brand: marks.Brand) -> np.ndarray:
    spec = marks.MarkSpec(brand.name, "genuine", brand.name, brand.colour)
    alpha = marks.mark_alpha(spec)[..., None]
    ink = np.float32(brand.colour)[None, None]
    image = 255.0 * (1 - alpha) + ink * alpha
    return cv2.copyMakeBorder(np.uint8(image), 16, 16, 16, 16, cv2.BORDER_CONSTANT,
                              value=(255, 255, 255))


def hex_of(bgr: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(bgr[2], bgr[1], bgr[0])


def write(out: Path, version: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for b in marks.BRANDS:
        name = f"{b.name.lower()}.png"
        cv2.imwrite(str(out / name), reference(b))
        value, origins = POLICY[b.name]
        entries.append({"name": b.name, "spellings": [b.name], "references": [name],
                        "colours": [hex_of(b.colour)], "ships_in": list(b.packagings),
                        "min_value": value, "origins": origins, "goods": True, "watched": True})
    manifest = {"format": FORMAT, "name": "demo-brands", "version": version, "brands": entries}
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("models/catalogue"))
    parser.add_argument("--version", default="1.0.0")
    args = parser.parse_args()
    write(args.out, args.version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
