#!/usr/bin/env bash
# Install or update parcel-edge as a service on a Raspberry Pi (Raspberry Pi OS 64-bit, Bookworm+).
#
#   sudo bash systemd/install.sh            install, or update after `git pull` (restarts the unit)
#   bash systemd/install.sh --dry-run       print every step, change nothing (root not needed)
#
# Idempotent: every step checks before it changes anything, so running it again after an update
# only copies the new code, reinstalls the package and restarts the service. A fresh install puts
# config/pi.yaml in /etc/parcel-edge/edge.yaml and starts nothing until `parcel-edge config check`
# accepts it (broker, TLS files); edit it and run this script again.
set -euo pipefail

DRY=0
for arg in "$@"; do
  case "$arg" in
    --dry-run|-n) DRY=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

SRC="$(cd "$(dirname "$0")/.." && pwd)"
# The paths the unit file names; overridable only so the dry run can be tested against a tree.
DEST=${PARCEL_EDGE_DEST:-/opt/parcel-edge}
ETC=${PARCEL_EDGE_ETC:-/etc/parcel-edge}
STATE=/var/lib/parcel-edge
UNIT=parcel-edge.service
USER_NAME=parcel-edge
GROUPS_NEEDED="video gpio"
APT="python3-venv python3-dev libzbar0 python3-picamera2 python3-libcamera rsync"

step() { echo "+ $*"; [ "$DRY" = 1 ] || "$@"; }
note() { echo "# $*"; }

if [ "$DRY" = 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo), or try --dry-run" >&2; exit 1; }
fi
if [ "$(uname -m)" != "aarch64" ] && [ "${PARCEL_EDGE_ANY_ARCH:-0}" != 1 ]; then
  msg="needs 64-bit Raspberry Pi OS (aarch64); the compiled wheels are 64-bit only"
  [ "$DRY" = 1 ] && note "on this machine ($(uname -m)) a real install would stop: $msg" \
    || { echo "install.sh: $msg" >&2; exit 1; }
fi

note "1/7 packages from Raspberry Pi OS (picamera2 and libcamera come from the OS; the venv sees them)"
missing=""
for p in $APT; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  step apt-get update -qq
  step env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
else
  note "all installed:$(printf ' %s' $APT)"
fi

note "2/7 user $USER_NAME and the device groups the unit file names (created where the OS has none)"
for g in $GROUPS_NEEDED; do
  getent group "$g" >/dev/null 2>&1 || step groupadd --system "$g"
done
id "$USER_NAME" >/dev/null 2>&1 || step useradd --system --home-dir "$STATE" --no-create-home \
  --shell /usr/sbin/nologin --user-group "$USER_NAME"
for g in $GROUPS_NEEDED; do
  id -nG "$USER_NAME" 2>/dev/null | tr ' ' '\n' | grep -qx "$g" || step usermod -aG "$g" "$USER_NAME"
done

note "3/7 code into $DEST"
step mkdir -p "$DEST"
step rsync -a --delete --exclude .venv --exclude .git --exclude out "$SRC"/ "$DEST"/

note "4/7 virtual environment, the package with its [pi] extra, the OCR wheel"
[ -x "$DEST/.venv/bin/python" ] || step python3 -m venv --system-site-packages "$DEST/.venv"
# Editable: the unit finds its models (models/current, models/catalogue, models/ocr) beside
# the code in $DEST, where the default paths point; a plain install would leave them behind.
step "$DEST/.venv/bin/pip" install -q -e "$DEST[pi]"
# The brand check's OCR weights ship in this wheel; --no-deps keeps the headless OpenCV 4
# (its own dependencies are in the package's). models/ocr/manifest.json names this version.
step "$DEST/.venv/bin/pip" install -q --no-deps "rapidocr-onnxruntime==1.4.4"

note "5/7 config in $ETC (kept if present)"
step install -d -m 0750 -o root -g "$USER_NAME" "$ETC" "$ETC/tls"
if [ -f "$ETC/edge.yaml" ]; then
  note "$ETC/edge.yaml exists: kept"
else
  step install -m 0640 -o root -g "$USER_NAME" "$DEST/config/pi.yaml" "$ETC/edge.yaml"
fi

note "6/7 unit file, time-sync wait"
step install -m 0644 "$DEST/systemd/$UNIT" "/etc/systemd/system/$UNIT"
step systemctl daemon-reload
# Without this, time-sync.target is reached before the clock is set (a Pi has no RTC).
step systemctl enable systemd-time-wait-sync.service

note "7/7 check the config as the unit's user, then enable and (re)start"
if [ "$DRY" = 1 ]; then
  step runuser -u "$USER_NAME" -- "$DEST/.venv/bin/parcel-edge" config check "$ETC/edge.yaml"
elif ! runuser -u "$USER_NAME" -- "$DEST/.venv/bin/parcel-edge" config check "$ETC/edge.yaml"; then
  echo "install.sh: $ETC/edge.yaml is not ready (above); edit it, then run install.sh again." >&2
  echo "install.sh: the code is installed; the service was not (re)started." >&2
  exit 3
fi
step systemctl enable "$UNIT"
# restart, not start: after an update the running unit must pick up the new code.
step systemctl restart "$UNIT"
[ "$DRY" = 1 ] || systemctl --no-pager status "$UNIT" | head -5
note "done"
