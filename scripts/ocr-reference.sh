#!/usr/bin/env bash
# Creates the Python venv that runs bench/ocr/reference.py (the RapidOCR reference pipeline the OCR
# benchmark compares Intake's PP-OCR engine against), idempotently: every package is pinned, and the
# install is skipped when the venv already holds exactly these versions. Only PyPI is used, and only
# here: the reference pipeline itself downloads nothing.
#
#   scripts/ocr-reference.sh          venv at $INTAKE_OCR_REF_VENV or ~/.cache/intake/ocr-ref-venv
#   PYTHON=python3.12 scripts/...     another interpreter (onnxruntime 1.32 needs Python >= 3.11)
#
# Prints the venv's python on stdout; progress goes to stderr.
set -euo pipefail

venv="${INTAKE_OCR_REF_VENV:-$HOME/.cache/intake/ocr-ref-venv}"
log() { echo "ocr-reference: $*" >&2; }

# rapidocr's and onnxruntime's full dependency closure, so two machines run the same code.
pins=(
  rapidocr==3.10.0
  onnxruntime==1.32.0
  numpy==2.4.6
  opencv-python-headless==5.0.0.93
  pyclipper==1.4.0
  shapely==2.2.0
  omegaconf==2.4.0
  PyYAML==6.0.4
  pillow==13.0.0
  six==1.17.0
  tqdm==4.70.1
  colorlog==6.12.0
  requests==2.34.2
  certifi==2026.10.19.post1
  charset-normalizer==3.5.3
  idna==3.20
  urllib3==2.8.0
  flatbuffers==25.12.19
  packaging==26.4
  protobuf==7.36.2
)

# True when the venv's python imports and every pin is installed at its exact version.
up_to_date() {
  [ -x "$venv/bin/python" ] || return 1
  "$venv/bin/python" - "${pins[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(p.split("==")[0]) != p.split("==")[1] for p in sys.argv[1:]))
EOF
}

if ! up_to_date; then
  py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { log "$py is older than Python 3.11 (set PYTHON=...)"; exit 2; }
  log "installing ${pins[*]} into $venv"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  # --no-deps: the list above is the whole closure; `pip check` proves nothing is missing.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "${pins[@]}" >&2
  "$venv/bin/python" -m pip check >&2
  up_to_date || { log "venv $venv does not match the pins"; exit 1; }
fi

echo "$venv/bin/python"
