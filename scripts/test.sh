#!/usr/bin/env bash
# Hark's test suite: the Swift tests (unit, fixtures against PyTorch, KenLM and
# Kaldi references, the command line, the server), then the real-browser
# tests when Chromium and chromedriver are installed (`bash
# scripts/install-dependencies.sh --test` installs them): `hark serve`'s page
# (headless Chromium streams a bundled WAV through its microphone path) and the
# reports (Chromium renders them to screenshots that are checked).
# HARK_REQUIRE_BROWSER=1 makes a missing browser an error instead of a skip.
# Then OpenAI's Python client against `hark serve` (scripts/openai_sdk_test.sh),
# with the Python in HARK_PYTHON (default python3) if it imports openai;
# HARK_REQUIRE_SDK=1 makes its absence an error.
set -euo pipefail
cd "$(dirname "$0")/.."
swift test 2>&1
PYTHON=${HARK_PYTHON:-python3}
if "$PYTHON" -c "import openai" 2>/dev/null; then
  bash scripts/openai_sdk_test.sh .build/debug/hark "$PYTHON"
elif [ "${HARK_REQUIRE_SDK:-0}" = 1 ]; then
  echo "openai sdk test: $PYTHON cannot import openai" >&2
  exit 1
else
  echo "openai sdk test: skipped ($PYTHON has no openai package: pip install openai)" >&2
fi
if command -v chromedriver >/dev/null && { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }; then
  bash scripts/browser_test.sh .build/debug/hark audio/an52-mmaf-b.wav
  bash scripts/report_screenshots.sh .build/debug/hark
elif [ "${HARK_REQUIRE_BROWSER:-0}" = 1 ]; then
  echo "browser test: chromium and chromedriver are not installed" >&2
  exit 1
else
  echo "browser test: skipped (no chromium/chromedriver; bash scripts/install-dependencies.sh --test installs them)" >&2
fi
