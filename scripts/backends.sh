#!/usr/bin/env bash
# Installs the offline back-ends Intake's AWS adapter tests run against, idempotently:
#   - moto server 5.2.5 (DynamoDB, S3, Rekognition emulation) in a Python venv
#   - s3s-fs 0.14.1 (an S3 server on a folder that checks SigV4) via cargo install
# Everything goes under $INTAKE_TOOLS_DIR (default: ~/.cache/intake/tools). Prints the paths the
# tests read (INTAKE_MOTO_SERVER, INTAKE_S3S_FS) as `export` lines, so `eval "$(scripts/backends.sh)"`
# configures a shell. Progress goes to stderr.
set -euo pipefail

TOOLS="${INTAKE_TOOLS_DIR:-$HOME/.cache/intake/tools}"
MOTO_VERSION="5.2.5"
S3S_VERSION="0.14.1"
mkdir -p "$TOOLS"
log() { echo "backends: $*" >&2; }

moto_venv="$TOOLS/moto-$MOTO_VERSION"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  log "installing moto[server]==$MOTO_VERSION into $moto_venv"
  rm -rf "$moto_venv"
  python3 -m venv "$moto_venv"
  "$moto_venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
fi

s3s_root="$TOOLS/s3s-fs-$S3S_VERSION"
if [ ! -x "$s3s_root/bin/s3s-fs" ]; then
  log "installing s3s-fs $S3S_VERSION into $s3s_root (takes a few minutes)"
  cargo install --quiet --locked --root "$s3s_root" --features binary "s3s-fs@$S3S_VERSION" >&2
fi

echo "export INTAKE_MOTO_SERVER=$moto_venv/bin/moto_server"
echo "export INTAKE_S3S_FS=$s3s_root/bin/s3s-fs"
