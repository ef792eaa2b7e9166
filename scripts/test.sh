#!/usr/bin/env bash
# `make test`: the whole suite against the real RabbitMQ (started if needed) and an embedded MongoDB
# server that the tests start themselves on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
bash scripts/bootstrap.sh
ensure_rabbitmq
ensure_chromium
exec .venv/bin/pytest -q "$@"
