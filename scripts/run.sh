#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and serves the example config.
# Extra arguments go to `switchyard serve` (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh release
exec build/switchyard serve --config examples/switchyard.yaml "$@"
