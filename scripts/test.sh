#!/usr/bin/env bash
# Set up (idempotent) and run the test suite; the tests start their own mosquitto on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@" tests
