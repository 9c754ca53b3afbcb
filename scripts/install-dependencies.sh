#!/usr/bin/env bash
# Installs the C libraries Hark builds against, from Debian's packages.
# With --test, also what the test suite's real-browser test of `hark serve`
# needs (Chromium, its WebDriver, curl), Python for OpenAI's client library
# and SoX, which the documentation's examples use.
set -euo pipefail
packages=(
  pkg-config
  libsndfile1-dev      # audio decoding (WAV, FLAC, OGG/Vorbis, AIFF, SPHERE, …)
  libfftw3-dev         # FFT of every feature frame (fftw3f)
  libopenblas-dev      # sgemm (CBLAS)
  libsamplerate0-dev   # sinc resampling of the audio Hark reads
  libsoxr-dev          # SoX's resampler: training's speed-perturbed copies and telephone band
  zlib1g-dev           # gzip-compressed ARPA language models
  libopenmpi-dev       # data-parallel training and sharded jobs under mpirun (Open MPI)
  openmpi-bin          # mpirun
  libcairo2-dev        # PNG and SVG pictures (hark plot, the reports' figures)
  fonts-dejavu-core    # the pictures' font
)
if [ "${1:-}" = --test ]; then
  packages+=(chromium chromium-driver curl)   # scripts/browser_test.sh, scripts/report_screenshots.sh
  packages+=(python3 python3-venv)           # a virtual environment for OpenAI's client (scripts/openai_sdk_test.sh)
  packages+=(sox)                            # the documentation's examples pipe audio through it (DocsExamplesTests)
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
