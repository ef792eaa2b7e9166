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
# The key that seals invitation tokens (services/survey/invitations/tokens.py): kept beside the admin key,
# never in the database, so a copy of var/mongo alone cannot answer as any enterprise.
if [ -z "${MANYI_TOKEN_KEY:-}" ]; then
  [ -s var/token.key ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(32))" > var/token.key)
  MANYI_TOKEN_KEY=$(cat var/token.key)
fi
export MANYI_TOKEN_KEY

ensure_rabbitmq
start_mongo "$MONGO_PORT" var/mongo var/log/mongo.log
# Each process runs in a session of its own under a supervisor loop that restarts it with back-off when it
# dies (printing the death and its last log lines) instead of stopping everything. Ctrl-C, TERM or HUP reach
# only this script, which stops them in order (processes first, the database last); further signals during
# that shutdown are ignored, so a second TERM (as make sends when it is itself terminated) cannot leave
# processes behind holding their ports.
RUN=var/run
rm -rf "$RUN" && mkdir -p "$RUN"
SUPERVISORS=()

supervise() {  # name log command...: run, and restart with back-off (1 s doubling to 30 s) while not stopping
  local name=$1 log=$2 backoff=1 started pid status
  shift 2
  while [ ! -e "$RUN/stopping" ]; do
    started=$SECONDS
    setsid "$@" >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$RUN/$name.pid"
    wait "$pid" && status=0 || status=$?
    [ -e "$RUN/stopping" ] && break
    echo "manyi: $name (pid $pid) died with status $status after $((SECONDS - started)) s; restarting in $backoff s. Last lines of $log:" >&2
    tail -n 5 "$log" | sed 's/^/    /' >&2
    sleep "$backoff"
    if [ $((SECONDS - started)) -gt 60 ]; then backoff=1; else backoff=$((backoff * 2 > 30 ? 30 : backoff * 2)); fi
  done
}

stop_pids() {  # TERM, up to 15 s for a clean exit, then KILL
  local pid end=$((SECONDS + 15))
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

cleanup() {
  # A second signal must not cut the shutdown short, nor a closed stdout (`make up | tee …` and Ctrl-C: tee is
  # gone, and the next write would kill this shell with SIGPIPE before it stopped anything).
  trap '' INT TERM HUP PIPE
  trap - EXIT
  set +e  # and a failed write (stderr gone with it) must not end the shell under `set -e` either
  echo "" >&2; echo "manyi: stopping" >&2
  touch "$RUN/stopping"
  local pids=() f
  for f in "$RUN"/*.pid; do [ -e "$f" ] && pids+=("$(cat "$f")"); done
  [ ${#pids[@]} -gt 0 ] && stop_pids "${pids[@]}"
  [ ${#SUPERVISORS[@]} -gt 0 ] && stop_pids "${SUPERVISORS[@]}"
  if [ -n "$MONGO_PID" ]; then stop_pids "$MONGO_PID"; fi
  rm -rf "$RUN"
}
on_signal() { cleanup; exit 0; }
trap on_signal INT TERM HUP
trap cleanup EXIT

supervise survey var/log/survey.log .venv/bin/gunicorn -c deploy/gunicorn.conf.py -b "127.0.0.1:$SURVEY_PORT" \
  "services.survey:create_app()" & SUPERVISORS+=($!)
supervise scoring var/log/scoring.log .venv/bin/python -m services.scoring & SUPERVISORS+=($!)
supervise delivery var/log/delivery.log .venv/bin/python -m services.delivery & SUPERVISORS+=($!)
supervise gateway var/log/gateway.log .venv/bin/gunicorn -c deploy/gunicorn.conf.py -b "127.0.0.1:$GATEWAY_PORT" \
  "gateway:create_app()" & SUPERVISORS+=($!)

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
# Wait for a signal; `wait` returns on one, and the trap stops everything.
while true; do wait; sleep 1; done
