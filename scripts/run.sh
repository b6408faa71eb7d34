#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and serves the example config
# (examples/switchyard.yaml) with no network and no key: a local model from
# models/. When models/ has no GGUF file, the project's tiny random-weight
# demo model is written there first.
# Extra arguments go to `switchyard serve` (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "run.sh: [1/3] checking what is installed (Debian packages, the local engine)"
bash scripts/setup.sh
echo "run.sh: [2/3] building the gateway"
SWITCHYARD_BUILD_PROGRESS=1 bash scripts/build.sh release switchyard tiny_gguf

echo "run.sh: [3/3] starting"
mkdir -p models
if ! compgen -G "models/*.gguf" >/dev/null; then
  build/tiny_gguf --out models/demo.gguf >/dev/null
  cat <<'NOTE'
run.sh: models/ had no model, so it now holds models/demo.gguf: a tiny RANDOM-WEIGHT
run.sh: demo model (0.5 MB) made by this project. It answers with gibberish; it is there
run.sh: to show the server working offline. For real answers, put any GGUF chat model in
run.sh: models/ (e.g. qwen2.5-0.5b-instruct-q4_k_m.gguf) and ask for it by its file name
run.sh: without .gguf; delete models/demo.gguf when you no longer want it.
NOTE
fi
echo "run.sh: models: $(cd models && ls -1 *.gguf | sed 's/\.gguf$//' | paste -sd ' ')"
echo "run.sh: try:  curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\"
echo "run.sh:         -d '{\"model\":\"demo\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'"
exec build/switchyard serve --config examples/switchyard.yaml "$@"
