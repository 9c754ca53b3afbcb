#!/usr/bin/env bash
# Real-browser test of `hark serve`: headless Chromium opens the page, "records"
# a WAV file through Chromium's fake microphone, streams it over the WebSocket,
# and the test waits for the server's final transcript to appear in #final.
# It then uploads the same WAV through the page's file input and waits for the
# transcript in #file-result.
#
#   bash scripts/browser_test.sh [HARK_BINARY] [WAV]
#
# Defaults: .build/release/hark and audio/an52-mmaf-b.wav ("ENTER SEVEN").
# The expected text is what `HARK transcribe WAV` prints, so nothing is hard-coded.
#
# Needs Debian packages: chromium chromium-driver curl (and coreutils: base64,
# od, timeout). No Selenium, Python or jq: WebDriver is spoken with curl.
# Works as root and without a display (--headless=new --no-sandbox).
#
# Environment:
#   SCREENSHOT=docs/page.png   save a screenshot of the page once the final text shows
#   HARK_SERVER_CMD="cmd …"    run "cmd … --port PORT" instead of "HARK serve --port PORT"
#   EXPECTED="TEXT"            expected transcript instead of `HARK transcribe WAV`
#   TIMEOUT=60                 seconds to wait for the transcript (and for /healthz)
#   TAIL=2                     seconds of recording after the clip ends, before eof
#   KEEP_LOGS=1                keep the temporary directory with the server and driver logs
set -euo pipefail

HARK=${1:-.build/release/hark}
WAV=${2:-audio/an52-mmaf-b.wav}
TIMEOUT=${TIMEOUT:-60}

fail() { echo "browser test: FAILED: $*" >&2; exit 1; }

[ -f "$WAV" ] || fail "no such WAV file: $WAV"
WAV_ABS=$(cd "$(dirname "$WAV")" && pwd)/$(basename "$WAV")
for tool in chromium chromedriver curl base64 od; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install chromium chromium-driver curl)"
done
if [ -z "${HARK_SERVER_CMD:-}" ] || [ -z "${EXPECTED:-}" ]; then
  [ -x "$HARK" ] || fail "no hark binary at $HARK (swift build -c release)"
fi

# --- the expected text -------------------------------------------------------
if [ -z "${EXPECTED:-}" ]; then
  EXPECTED=$("$HARK" transcribe "$WAV" | tr -s ' \n\t' ' ' | sed 's/^ //; s/ $//')
fi
[ -n "$EXPECTED" ] || fail "\`$HARK transcribe $WAV\` printed nothing; cannot tell what to expect"
case "$EXPECTED" in *[\"\\]*) fail "expected text has quotes or backslashes: $EXPECTED";; esac

# --- the WAV: Chromium's fake capture reads 16-bit PCM WAV (RIFF) files -------
# It converts the file's rate to the capture rate itself (16 kHz files work).
hdr() { od -An -t u"$2" -j "$1" -N "$2" "$WAV_ABS" | tr -d ' '; }
[ "$(head -c 4 "$WAV_ABS")" = RIFF ] || fail "$WAV is not a RIFF WAV file"
channels=$(hdr 22 2); rate=$(hdr 24 4); bits=$(hdr 34 2)
[ "$bits" = 16 ] || fail "$WAV has $bits-bit samples; Chromium's fake microphone wants 16-bit PCM"
bytes=$(( $(wc -c <"$WAV_ABS") - 44 ))
duration_ms=$(( bytes * 1000 / (rate * channels * 2) ))
# Recording stops (eof) TAIL seconds after the clip ends; Chromium's fake
# microphone gives near-silence after a %noloop clip.
TAIL=${TAIL:-2}
autostop=$(( (duration_ms + TAIL * 1000 + 999) / 1000 ))  # rounded up to whole seconds

# --- free loopback ports --------------------------------------------------------
. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"
PORT=$(free_port)
DRIVER_PORT=$(free_port)
[ "$PORT" != "$DRIVER_PORT" ] || DRIVER_PORT=$(free_port)

TMP=$(mktemp -d)
SERVER_PID="" DRIVER_PID="" SESSION=""
DRIVER="http://127.0.0.1:$DRIVER_PORT"
# Both background jobs are started with setsid, so each leads its own process
# group (chromedriver's includes the Chromium it started): TERM, then KILL.
stop_group() {
  kill -TERM -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 -- "-$1" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
cleanup() {
  set +e
  [ -n "$SESSION" ] && curl -s -m 10 -X DELETE "$DRIVER/session/$SESSION" >/dev/null
  [ -n "$DRIVER_PID" ] && stop_group "$DRIVER_PID"
  [ -n "$SERVER_PID" ] && stop_group "$SERVER_PID"
  if [ -n "${KEEP_LOGS:-}" ]; then echo "logs kept in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

show_logs() {
  echo "--- server log (last 20 lines)" >&2; tail -n 20 "$TMP/server.log" >&2 2>/dev/null || true
  echo "--- chromedriver log (last 10 lines)" >&2; tail -n 10 "$TMP/driver.log" >&2 2>/dev/null || true
}

# --- the server -------------------------------------------------------------------
if [ -n "${HARK_SERVER_CMD:-}" ]; then
  # shellcheck disable=SC2086  # the override is a command line to split
  setsid $HARK_SERVER_CMD --port "$PORT" >"$TMP/server.log" 2>&1 &
else
  setsid "$HARK" serve --port "$PORT" >"$TMP/server.log" 2>&1 &
fi
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT"
for i in $(seq $(( TIMEOUT * 2 ))); do
  curl -sf -m 2 "$BASE/healthz" >/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { show_logs; fail "the server exited before answering /healthz"; }
  [ "$i" -lt $(( TIMEOUT * 2 )) ] || { show_logs; fail "no answer from $BASE/healthz after $TIMEOUT s"; }
  sleep 0.5
done
page_type=$(curl -s -o /dev/null -w '%{content_type}' "$BASE/")
case "$page_type" in text/html*) ;; *) fail "GET / answered Content-Type '$page_type', not text/html";; esac

# --- chromedriver and a headless Chromium session ------------------------------------
setsid chromedriver --port="$DRIVER_PORT" >"$TMP/driver.log" 2>&1 &
DRIVER_PID=$!
for i in $(seq 40); do
  curl -sf -m 2 "$DRIVER/status" | grep -q '"ready": *true' && break
  [ "$i" -lt 40 ] || { show_logs; fail "chromedriver did not become ready"; }
  sleep 0.25
done

# wd METHOD PATH [JSON] prints the WebDriver answer ({"value": …}).
wd() { curl -s -m 30 -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$DRIVER$2"; }
# js 'expression' runs `return (expression)` in the page and prints the string it returns.
js() {
  wd POST "/session/$SESSION/execute/sync" "{\"script\":\"return String($1)\",\"args\":[]}" \
    | sed -n 's/^{"value":"\(.*\)"}$/\1/p'
}

chrome_args=$(printf '"%s",' --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --window-size=1100,1150 --use-fake-ui-for-media-stream --use-fake-device-for-media-stream \
  "--use-file-for-fake-audio-capture=$WAV_ABS%noloop" --autoplay-policy=no-user-gesture-required)
binary=$(command -v chromium)
answer=$(wd POST /session "{\"capabilities\":{\"alwaysMatch\":{\"browserName\":\"chrome\",
  \"goog:chromeOptions\":{\"binary\":\"$binary\",\"args\":[${chrome_args%,}]}}}}")
SESSION=$(printf '%s' "$answer" | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
[ -n "$SESSION" ] || { show_logs; fail "no WebDriver session: $answer"; }

# --- stream the WAV through the fake microphone ----------------------------------------
wd POST "/session/$SESSION/url" "{\"url\":\"$BASE/?autostart=1&autostop=$autostop\"}" >/dev/null
state() {
  js "'final=[' + document.getElementById('final').textContent + '] partial=[' + document.getElementById('partial').textContent + '] status=[' + document.getElementById('status').textContent + ']'"
}
start=$SECONDS
while :; do
  final=$(js "document.getElementById('final').textContent")
  case "$final" in *"$EXPECTED"*) break ;; esac
  if [ $(( SECONDS - start )) -ge "$TIMEOUT" ]; then
    seen=$(state); show_logs
    fail "after $TIMEOUT s the page shows $seen; expected '$EXPECTED' in #final"
  fi
  sleep 1
done
stream_s=$(( SECONDS - start ))
if [ -n "${SCREENSHOT:-}" ]; then
  mkdir -p "$(dirname "$SCREENSHOT")"
  wd GET "/session/$SESSION/screenshot" | sed -n 's/^{"value":"\(.*\)"}$/\1/p' | base64 -d >"$SCREENSHOT" \
    || fail "could not save the screenshot to $SCREENSHOT"
fi

# --- upload the same WAV through the file input ------------------------------------------
element=$(wd POST "/session/$SESSION/element" '{"using":"css selector","value":"#file"}' \
  | sed -n 's/.*"element-6066-11e4-a52e-4f735466cecf":"\([^"]*\)".*/\1/p')
[ -n "$element" ] || fail "no #file input on the page"
wd POST "/session/$SESSION/element/$element/value" "{\"text\":\"$WAV_ABS\"}" >/dev/null
start=$SECONDS
while :; do
  result=$(js "document.getElementById('file-result').textContent")
  case "$result" in *"$EXPECTED"*) break ;; esac
  if [ $(( SECONDS - start )) -ge "$TIMEOUT" ]; then
    show_logs; fail "after $TIMEOUT s #file-result shows [$result]; expected '$EXPECTED'"
  fi
  sleep 1
done

echo "browser test: passed ('$EXPECTED' streamed from $(basename "$WAV") in ${stream_s} s and transcribed by upload${SCREENSHOT:+; screenshot $SCREENSHOT})"
