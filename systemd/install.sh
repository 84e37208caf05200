#!/usr/bin/env bash
# Install parcel-edge as a service on a Raspberry Pi (Raspberry Pi OS 64-bit, Bookworm or later).
# Idempotent: run again after `git pull` to update. Needs root.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
[ "$(uname -m)" = "aarch64" ] || [ "${PARCEL_EDGE_ANY_ARCH:-0}" = 1 ] || {
  echo "install.sh: needs 64-bit Raspberry Pi OS (aarch64); the compiled wheels are 64-bit only" >&2; exit 1; }
SRC="$(cd "$(dirname "$0")/.." && pwd)"
DEST=/opt/parcel-edge
apt-get update -qq
# picamera2 and libcamera come from Raspberry Pi OS's own packages; the venv sees them.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3-venv python3-dev libzbar0 python3-picamera2 python3-libcamera rsync
id parcel-edge >/dev/null 2>&1 || useradd --system --home /var/lib/parcel-edge --shell /usr/sbin/nologin parcel-edge
for g in video gpio; do getent group "$g" >/dev/null && usermod -aG "$g" parcel-edge; done
mkdir -p "$DEST" /etc/parcel-edge /var/lib/parcel-edge
rsync -a --delete --exclude .venv --exclude .git --exclude out "$SRC"/ "$DEST"/
[ -x "$DEST/.venv/bin/python" ] || python3 -m venv --system-site-packages "$DEST/.venv"
"$DEST/.venv/bin/pip" install -q "$DEST[pi]"
[ -f /etc/parcel-edge/edge.yaml ] || install -m 0640 -g parcel-edge "$DEST/config/edge.example.yaml" /etc/parcel-edge/edge.yaml
chown -R parcel-edge:parcel-edge /var/lib/parcel-edge
"$DEST/.venv/bin/parcel-edge" config check /etc/parcel-edge/edge.yaml
install -m 0644 "$DEST/systemd/parcel-edge.service" /etc/systemd/system/parcel-edge.service
systemctl daemon-reload
systemctl enable --now parcel-edge.service
systemctl --no-pager status parcel-edge.service | head -5
