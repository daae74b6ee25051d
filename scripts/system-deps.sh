#!/usr/bin/env bash
# Install the Debian packages the test suite needs (PostgreSQL 15 server,
# Chromium for the browser tests, gettext for translation checks, Tesseract
# for MRZ reading and a font to print a test MRZ), only if one is missing.
# Needs root or passwordless sudo; `make demo` never calls it.
set -euo pipefail

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -x /usr/bin/chromium ] || need+=(chromium)
# The scale-out test (make test-scaleout): Redis and nginx on loopback.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
# Optional for Tropa itself (MRZ reading falls back to typing), installed here
# so that CI runs the OCR path too.
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "system-deps: need root to install: ${need[*]}" >&2
    exit 1
  fi
fi

echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
