#!/usr/bin/env bash
# Load on `hark serve` over loopback, run by hand on an otherwise idle machine:
#  1. HTTP: 32 concurrent clients POST a bundled sample to /v1/transcribe for 60 s (wrk, Debian's
#     package): requests/s, latency percentiles, errors (non-2xx answers and socket errors).
#  2. WebSocket: 16 concurrent clients each stream AN4 utterances in real time for 60 s
#     (hark-load): delay from a word's end to the first message showing it, and the server's CPU.
#
#   bash Benchmarks/serve_load.sh [SECONDS] [WAV…]    (default 60 s; the WebSocket clients stream
#                                                       the WAVs given, else the bundled sample)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
wavs=("$@")
[ ${#wavs[@]} -gt 0 ] || wavs=(audio/an52-mmaf-b.wav)
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
swift build -c release --product hark >/dev/null
swift build -c release --product hark-load >/dev/null
port=$((20000 + RANDOM % 20000))
.build/release/hark serve --port "$port" --max-streams 64 2>/tmp/hark-serve-load.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "== HTTP: wrk -t2 -c32 -d${seconds}s POST audio/an52-mmaf-b.wav (1.5 s) to /v1/transcribe"
cpu0=$(awk '{print $14+$15}' /proc/$server/stat)
WAV=audio/an52-mmaf-b.wav wrk -t2 -c32 -d"${seconds}s" --timeout 10s --latency -s Benchmarks/post_wav.lua \
  "http://127.0.0.1:$port/v1/transcribe"
cpu1=$(awk '{print $14+$15}' /proc/$server/stat)
echo "server CPU: $(( (cpu1 - cpu0) / $(getconf CLK_TCK) )) s over ${seconds} s"
echo "== WebSocket: 16 clients streaming in real time for ${seconds} s"
.build/release/hark-load --url "ws://127.0.0.1:$port/v1/stream" --clients 16 --seconds "$seconds" --pid "$server" "${wavs[@]}"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^hark_(requests|errors|audio_seconds|processing_seconds)_total' || true
