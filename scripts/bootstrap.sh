#!/usr/bin/env bash
# Create .venv and install the pinned packages (including the embedded MongoDB server) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  echo "manyi: creating .venv" >&2
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "manyi: installing pinned packages into .venv (first run takes a minute)" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  mkdir -p var/log
  if ! .venv/bin/pip install --disable-pip-version-check -e ".[dev]" >var/log/pip.log 2>&1; then
    tail -30 var/log/pip.log >&2
    echo "manyi: installing packages failed; the whole log is var/log/pip.log" >&2
    exit 1
  fi
  touch "$stamp"
fi
