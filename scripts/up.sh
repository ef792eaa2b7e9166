#!/usr/bin/env bash
# `make up`: install what is missing, start RabbitMQ if needed, the embedded MongoDB, the three
# processes, seed a demo county on first start, print the URLs and the admin key. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
bash scripts/bootstrap.sh
mkdir -p var/log var/mongo

SURVEY_PORT=${SURVEY_PORT:-8001}
GATEWAY_PORT=${GATEWAY_PORT:-8002}
MONGO_PORT=${MONGO_PORT:-27017}
export MANYI_MONGO_URL=${MANYI_MONGO_URL:-mongodb://127.0.0.1:$MONGO_PORT/?directConnection=true}
export MANYI_PUBLIC_URL=${MANYI_PUBLIC_URL:-http://127.0.0.1:$SURVEY_PORT}
if [ -z "${MANYI_ADMIN_KEY:-}" ]; then
  [ -s var/admin.key ] || (umask 077; .venv/bin/python -c "from shared.keys import new_key; print(new_key())" > var/admin.key)
  MANYI_ADMIN_KEY=$(cat var/admin.key)
fi
export MANYI_ADMIN_KEY

ensure_rabbitmq
start_mongo "$MONGO_PORT" var/mongo var/log/mongo.log
PIDS=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "manyi: stopping" >&2
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${PIDS[@]}" 2>/dev/null || true
  if [ -n "$MONGO_PID" ]; then kill -TERM "$MONGO_PID" 2>/dev/null || true; wait "$MONGO_PID" 2>/dev/null || true; fi
}
on_signal() { cleanup; exit 0; }
trap on_signal INT TERM HUP
trap cleanup EXIT

# Each process in a session of its own: Ctrl-C reaches only this script, which stops them in order
# (processes first, the database last) instead of racing them to the exit.
setsid .venv/bin/gunicorn -c deploy/gunicorn.conf.py -b "127.0.0.1:$SURVEY_PORT" "services.survey:create_app()" \
  >>var/log/survey.log 2>&1 & PIDS+=($!)
setsid .venv/bin/python -m services.scoring >>var/log/scoring.log 2>&1 & PIDS+=($!)
setsid .venv/bin/python -m services.delivery >>var/log/delivery.log 2>&1 & PIDS+=($!)
setsid .venv/bin/gunicorn -c deploy/gunicorn.conf.py -b "127.0.0.1:$GATEWAY_PORT" "gateway:create_app()" \
  >>var/log/gateway.log 2>&1 & PIDS+=($!)

.venv/bin/python -m manyi.cli wait-ready "http://127.0.0.1:$SURVEY_PORT/readyz" \
  "http://127.0.0.1:$GATEWAY_PORT/readyz" "http://127.0.0.1:${MANYI_SCORING_HEALTH_PORT:-8003}/readyz"
.venv/bin/python -m manyi.cli seed-demo --survey "http://127.0.0.1:$SURVEY_PORT" --key "$MANYI_ADMIN_KEY"

cat <<MSG

  Manyi is running (logs in var/log/, data in var/mongo/). Ctrl-C stops everything.

  survey service  http://127.0.0.1:$SURVEY_PORT     API docs http://127.0.0.1:$SURVEY_PORT/docs
  gateway         http://127.0.0.1:$GATEWAY_PORT     API docs http://127.0.0.1:$GATEWAY_PORT/docs
  console         http://127.0.0.1:$SURVEY_PORT/console     (营商办 and departments: sign in with the admin key or a department key)
  dashboard       http://127.0.0.1:$GATEWAY_PORT/dashboard   (log in with the admin key or a portal key)
  scoring worker  http://127.0.0.1:${MANYI_SCORING_HEALTH_PORT:-8003}/readyz
  admin key       $MANYI_ADMIN_KEY   (also in var/admin.key)

  Try:
    curl -s -H "Authorization: Bearer $MANYI_ADMIN_KEY" "http://127.0.0.1:$GATEWAY_PORT/api/v1/indices?period=$(.venv/bin/python -m manyi.cli demo-period)"
    curl -s -H "Authorization: Bearer $MANYI_ADMIN_KEY" http://127.0.0.1:$SURVEY_PORT/api/v1/departments
    curl -s -H "Authorization: Bearer $MANYI_ADMIN_KEY" http://127.0.0.1:$SURVEY_PORT/api/v1/surveys
MSG
wait -n "${PIDS[@]}" || true
echo "manyi: a process exited unexpectedly; see var/log/ (stopping the others)" >&2
exit 1
