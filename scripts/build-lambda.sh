#!/usr/bin/env bash
# Builds the Lambda functions' `bootstrap` executables for the template's runtime, `provided.al2023`,
# whose glibc is 2.34: linked by cargo-zigbuild against zig's glibc 2.34 symbols (a build linked
# against this machine's Debian glibc 2.36 asks for `GLIBC_2.35` and does not start on Lambda), and
# checked: the script fails when a bootstrap needs a newer glibc than 2.34.
#
#   scripts/build-lambda.sh [--arch arm64|x86_64] [--profile release|dev] [--out DIR]
#
# arm64 (the template's architecture, the default) compiles with Debian's Rust toolchain and its
# aarch64 standard library (scripts/arm64-toolchain.sh); x86_64 with the machine's own. The profile
# is `release` for a deployment; the arm64 smoke uses `dev` (the workspace's test profile, whose OCR
# and image crates are optimised), as the model work is in ONNX Runtime's library and it compiles in
# a fraction of the time. Writes DIR/api/bootstrap and DIR/processor/bootstrap (DIR defaults to
# target/lambda, where the template's CodeUri points) and prints DIR.
# ziglang and cargo-zigbuild come from PyPI, pinned, into $INTAKE_TOOLS_DIR on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIG_VERSION=0.17.0
ZIGBUILD_VERSION=0.24.0
GLIBC=2.34
TOOLS="${INTAKE_TOOLS_DIR:-$HOME/.cache/intake/tools}"
target_dir="${CARGO_TARGET_DIR:-target}"
arch=arm64 profile=release out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "build-lambda: unknown argument $1" >&2; exit 2 ;;
  esac
done
out="${out:-target/lambda}"
log() { echo "build-lambda: $*" >&2; }

zig_venv="$TOOLS/zigbuild-$ZIGBUILD_VERSION-zig-$ZIG_VERSION"
if [ ! -x "$zig_venv/bin/cargo-zigbuild" ] || [ ! -x "$zig_venv/bin/python-zig" ]; then
  log "installing ziglang==$ZIG_VERSION and cargo-zigbuild==$ZIGBUILD_VERSION into $zig_venv"
  rm -rf "$zig_venv"
  python3 -m venv "$zig_venv"
  "$zig_venv/bin/pip" install --quiet --disable-pip-version-check \
    "ziglang==$ZIG_VERSION" "cargo-zigbuild==$ZIGBUILD_VERSION" >&2
fi
# cargo-zigbuild finds zig as `python -m ziglang` with the venv's python first on PATH.
export PATH="$zig_venv/bin:$PATH"

case "$arch" in
  arm64|aarch64)
    triple=aarch64-unknown-linux-gnu
    eval "$(scripts/arm64-toolchain.sh)"
    export RUSTC="$INTAKE_ARM64_RUSTC"
    ;;
  x86_64|amd64) triple=x86_64-unknown-linux-gnu ;;
  *) echo "build-lambda: no Lambda architecture $arch (arm64 or x86_64)" >&2; exit 2 ;;
esac
case "$profile" in
  dev) built="$target_dir/$triple/debug" ;;
  *) built="$target_dir/$triple/$profile" ;;
esac

started=$SECONDS
log "cargo zigbuild --profile $profile --target $triple.$GLIBC"
cargo zigbuild --locked --profile "$profile" -p intake-lambda --bins --target "$triple.$GLIBC" >&2
log "built in $((SECONDS - started)) s"

# The newest glibc symbol version each bootstrap asks for, against the runtime's.
status=0
for fn in api processor; do
  mkdir -p "$out/$fn"
  cp "$built/$fn" "$out/$fn/bootstrap"
  needs="$(objdump -T "$out/$fn/bootstrap" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' |
    sort -uV | tail -1)"
  if [ "$(printf '%s\n%s\n' "$needs" "$GLIBC" | sort -V | tail -1)" != "$GLIBC" ]; then
    log "$fn/bootstrap needs glibc $needs; provided.al2023 has $GLIBC"
    status=1
  else
    log "$fn/bootstrap ($arch, $profile): needs glibc $needs, at most $GLIBC"
  fi
done
[ "$status" -eq 0 ]
(cd "$out" && pwd)
