#!/usr/bin/env bash
# Builds one fuzz target and runs it under libFuzzer.
#
#   Fuzz/run.sh TARGET SECONDS [libFuzzer flags…]
#
# TARGET is one of: safetensors npy kaldi manifest config audio arpa multipart
# stream trainlog (Sources/HarkFuzz/main.swift lists them).
# The corpus grows in Fuzz/.work/corpus/TARGET (seeded from the committed
# Fuzz/corpus/TARGET); crashes, hangs (-timeout=10) and allocations over
# 2 GB (-rss_limit_mb=2048) are written to Fuzz/.work/artifacts/TARGET/.
# One worker: the machine is shared.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: Fuzz/run.sh TARGET SECONDS [libFuzzer flags...]}"
seconds="${2:?usage: Fuzz/run.sh TARGET SECONDS [libFuzzer flags...]}"
shift 2
cd "$here"
# lld links it: gold stops with an internal error (dwarf_reader.cc) on this
# many instrumented modules in one executable.
flags=(-c release --product hark-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
swift build "${flags[@]}"
binary="$(swift build "${flags[@]}" --show-bin-path)/hark-fuzz"
corpus="$here/.work/corpus/$target"
artifacts="$here/.work/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
extra=()
# libvorbis leaks its vorbis_info (5.8 kB) when libsndfile gives up on a
# damaged Ogg Vorbis header (reproducer: Fuzz/reproducers/audio-libvorbis-leak.ogg;
# Hark closes every handle it opens); over a 10-minute run that is 160 MB
# reported at exit. Leaks are not what this target hunts.
if [ "$target" = audio ]; then
    extra+=(-detect_leaks=0)
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
# Swift's own crash backtracer can outlive the crashed process for minutes
# under libFuzzer; ASan and libFuzzer print the stack already.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
exec "$binary" "$target" "$corpus" "$here/corpus/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "${extra[@]}" "$@"
