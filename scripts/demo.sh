#!/usr/bin/env bash
# Set up (idempotent) and run the embedded demo: a synthetic conveyor through the whole unit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/parcel-edge demo "$@"
