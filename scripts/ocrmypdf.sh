#!/usr/bin/env bash
# Creates the Python venv that runs OCRmyPDF (with Debian's Tesseract), the reference the PDF
# benchmark compares Intake's searchable-PDF export against, idempotently: every package is pinned,
# and the install is skipped when the venv already holds exactly these versions. Only PyPI is used.
# No Ghostscript: the benchmark asks for `--output-type pdf` (not PDF/A), which OCRmyPDF writes
# without it.
#
#   scripts/ocrmypdf.sh          venv at $INTAKE_OCRMYPDF_VENV or ~/.cache/intake/ocrmypdf-venv
#
# Prints the venv's ocrmypdf on stdout; progress goes to stderr.
set -euo pipefail

venv="${INTAKE_OCRMYPDF_VENV:-$HOME/.cache/intake/ocrmypdf-venv}"
log() { echo "ocrmypdf: $*" >&2; }

# ocrmypdf's full dependency closure, so two machines run the same code.
pins=(
  ocrmypdf==17.13.0
  annotated-types==0.8.0
  attrs==26.1.0
  cffi==2.1.1
  charset-normalizer==3.5.3
  cryptography==51.0.1
  defusedxml==0.7.1
  fonttools==4.69.1
  fpdf2==2.8.9
  img2pdf==0.6.3
  jsonschema==4.26.0
  jsonschema-specifications==2025.9.1
  lxml==6.2.1
  markdown-it-py==4.3.0
  mdurl==0.1.2
  packaging==26.4
  pdfminer.six==20260107
  pikepdf==10.18.0
  pillow==13.0.0
  pluggy==1.7.0
  pycparser==3.12
  pydantic==2.14.4
  pydantic_core==2.50.5
  Pygments==2.21.0
  pypdfium2==5.15.2
  referencing==0.37.0
  rich==15.0.0
  rpds-py==2026.9.1
  typing-inspection==0.4.5
  typing_extensions==4.16.0
  uharfbuzz==0.57.0
)

# True when the venv's python imports and every pin is installed at its exact version.
up_to_date() {
  [ -x "$venv/bin/python" ] || return 1
  "$venv/bin/python" - "${pins[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(p.split("==")[0]) != p.split("==")[1] for p in sys.argv[1:]))
PY
}

if ! up_to_date; then
  command -v tesseract >/dev/null || { log "tesseract is missing (scripts/system-deps.sh)"; exit 2; }
  py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { log "$py is older than Python 3.11 (set PYTHON=...)"; exit 2; }
  log "installing ${pins[*]} into $venv"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  # --no-deps: the list above is the whole closure; `pip check` proves nothing is missing.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "${pins[@]}" >&2
  "$venv/bin/python" -m pip check >&2
  up_to_date || { log "venv $venv does not match the pins"; exit 1; }
  # Compiles the modules once, so that the first timed run does not.
  "$venv/bin/ocrmypdf" --version >/dev/null
fi

echo "$venv/bin/ocrmypdf"
