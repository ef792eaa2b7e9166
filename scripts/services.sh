#!/usr/bin/env bash
# Helpers sourced by up.sh and test.sh: start RabbitMQ and the embedded MongoDB server when not running.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {  # host port seconds what
  local end=$((SECONDS + $3))
  until port_open "$1" "$2"; do
    if [ $SECONDS -ge $end ]; then echo "manyi: $4 did not come up on $1:$2 within $3 s" >&2; return 1; fi
    sleep 0.3
  done
}

ensure_rabbitmq() {
  if port_open 127.0.0.1 5672; then return 0; fi
  echo "manyi: starting RabbitMQ (rabbitmq-server -detached)" >&2
  rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_port 127.0.0.1 5672 90 RabbitMQ
}

start_mongo() {  # port storage-dir log-file → sets MONGO_PID when this call started it
  MONGO_PID=""
  if port_open 127.0.0.1 "$1"; then
    echo "manyi: MongoDB-compatible server already listening on 127.0.0.1:$1" >&2
    return 0
  fi
  mkdir -p "$2"
  setsid .venv/bin/secantusd-py --port "$1" --storage-path "$2" --log-level WARNING >>"$3" 2>&1 &
  MONGO_PID=$!
  wait_port 127.0.0.1 "$1" 60 "the embedded MongoDB server (secantusd-py, log $3)"
}

ensure_chromium() {  # browser tests use Debian's chromium (never a downloaded browser) and a CJK font
  if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei"; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "manyi: browser tests need Debian's chromium and fonts-wqy-microhei: sudo apt-get install chromium fonts-wqy-microhei" >&2
    return 1
  fi
  echo "manyi: installing Debian's chromium and fonts-wqy-microhei for the browser tests" >&2
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
}
