#!/usr/bin/env bash
# One-time, idempotent set-up on Debian / Raspberry Pi OS (64-bit): apt packages,
# a virtual environment at .venv/ in the checkout, and the package with its extras.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# fuse3 + libfuse2: the power-cut tests mount a FUSE file system (fusepy loads libfuse2).
# postgresql: the hub's store; chromium: the browser tests (Playwright drives Debian's).
# tesseract-ocr and the fonts: the OCR comparison and the held-out brand renderer.
# poppler-utils: the photo guide's test renders its PDF (pdftoppm) to check what it says.
APT_PKGS="python3 python3-venv python3-dev libzbar0 mosquitto fuse3 libfuse2 postgresql chromium
  tesseract-ocr fonts-dejavu-core fonts-urw-base35 poppler-utils"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# The broker is started by the tests themselves on a free loopback port; a system
# mosquitto on :1883 is not needed for the demo or the tests.
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[${EXTRAS:-dev,capture,hub}]"
# The OCR engine's ONNX weights ship in this wheel; --no-deps keeps the headless OpenCV 4.
.venv/bin/python -m pip install -q --no-deps "rapidocr-onnxruntime==1.4.4"
