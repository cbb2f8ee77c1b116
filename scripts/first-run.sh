#!/usr/bin/env bash
# How long a fresh clone's `make run` takes to serve (issue 29's first-run target): clones this
# checkout's HEAD into a temporary directory and runs `make run` there with an empty cargo home (every
# crate downloaded), an empty target directory, an empty wheel cache and models directory, and a
# free port, until GET /health answers; then stops it with Ctrl-C. Debian packages already installed
# stay installed (a machine without Tesseract also waits for apt, which runs while the build does).
# Prints the seconds to serve. Run it on an otherwise idle machine: it is a measurement (where the
# build's time goes: `cargo build --release -p intake-cli --bin intake --timings` from an empty target).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d "${TMPDIR:-/tmp}/intake-first-run.XXXXXX")
server=""
cleanup() {
  [ -n "$server" ] && kill -KILL -- "-$server" 2>/dev/null || true
  # Only the log stays: the clone, its target and the caches are gigabytes.
  rm -rf "$work/clone" "$work/cargo-home" "$work/cache" "$work/models" "$work/data"
}
trap cleanup EXIT

git clone -q "$root" "$work/clone"
cd "$work/clone"
export CARGO_HOME="$work/cargo-home" XDG_CACHE_HOME="$work/cache" PIP_NO_CACHE_DIR=1 \
  INTAKE_MODELS_DIR="$work/models"
unset CARGO_TARGET_DIR CARGO_INCREMENTAL
mkdir -p "$CARGO_HOME"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$(date +%s)
INTAKE_DATA_DIR="$work/data" INTAKE_ADDR="127.0.0.1:$port" setsid make run >"$work/run.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do
  kill -0 "$server" 2>/dev/null || { tail -30 "$work/run.log" >&2; echo "first-run: make run exited" >&2; exit 1; }
  sleep 1
done
echo "first-run: make run served after $(( $(date +%s) - start )) s (log: $work/run.log)"
kill -INT -- "-$server"
sleep 2
