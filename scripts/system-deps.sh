#!/usr/bin/env bash
# Installs the Debian packages Intake's local mode and tests need, when missing (idempotent):
# `heif-enc` from libheif-examples (the tests encode HEIC with libheif's encoder, so that the decoder
# Intake builds in is checked against files another implementation wrote), Tesseract 5 with English data (OCR), DejaVu fonts (the OCR tests render text with them), Poppler's
# tools and qpdf (the PDF tests write encrypted PDFs with qpdf; the searchable PDF export's tests read
# it back with pdftotext, pdfimages, pdfinfo and pdftoppm, and check it with qpdf); with `--browser`
# also Chromium and chromedriver (the web app's browser test, run by `make test`). Compiling Intake
# needs none of them.
set -euo pipefail

missing=()
command -v heif-enc >/dev/null 2>&1 || missing+=(libheif-examples)
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
[ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata 2>/dev/null)" ] || missing+=(tesseract-ocr-eng)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
