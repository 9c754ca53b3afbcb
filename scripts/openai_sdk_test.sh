#!/usr/bin/env bash
# `hark serve`'s OpenAI-compatible endpoint, tested with OpenAI's official
# Python client library (Tests/Clients/openai_sdk_test.py): every
# response_format, timestamps, errors, and stream=True.
#
#   bash scripts/openai_sdk_test.sh [HARK_BINARY] [PYTHON]
#
# PYTHON must import openai (`.ci/run` makes a virtual environment with it
# from the package index); defaults: .build/debug/hark and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
HARK=${1:-.build/debug/hark}
PYTHON=${2:-python3}
TIMEOUT=${TIMEOUT:-60}
fail() { echo "openai sdk test: FAILED: $*" >&2; exit 1; }
[ -x "$HARK" ] || fail "no hark binary at $HARK"
"$PYTHON" -c "import openai" 2>/dev/null || fail "$PYTHON cannot import openai (pip install openai)"

. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"
PORT=$(free_port)
LOG=$(mktemp)
setsid "$HARK" serve --port "$PORT" >"$LOG" 2>&1 &
SERVER=$!
cleanup() {
  kill -TERM -- "-$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT
for i in $(seq $(( TIMEOUT * 2 ))); do
  curl -sf -m 2 "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; fail "the server exited before answering /healthz"; }
  [ "$i" -lt $(( TIMEOUT * 2 )) ] || fail "no answer from /healthz after $TIMEOUT s"
  sleep 0.5
done
echo "openai sdk test: openai $("$PYTHON" -c 'import openai; print(openai.__version__)') against $HARK serve"
"$PYTHON" Tests/Clients/openai_sdk_test.py "http://127.0.0.1:$PORT/v1" audio/an52-mmaf-b.wav audio/mmaf-session.wav
