#!/usr/bin/env bash
# Installs the tools that check deploy/template.yaml, idempotently, each in its own venv under
# $INTAKE_TOOLS_DIR (default ~/.cache/intake/tools): aws-sam-cli (SAM translator + cfn-lint) and
# checkov. Prints `export` lines for INTAKE_SAM and INTAKE_CHECKOV; progress goes to stderr.
set -euo pipefail

TOOLS="${INTAKE_TOOLS_DIR:-$HOME/.cache/intake/tools}"
SAM_VERSION="1.170.0"
CHECKOV_VERSION="3.3.30"
mkdir -p "$TOOLS"
log() { echo "deploy-tools: $*" >&2; }

install() { # venv package binary
  local venv="$1" package="$2" binary="$3"
  if [ ! -x "$venv/bin/$binary" ]; then
    log "installing $package into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package" >&2
  fi
}

install "$TOOLS/sam-$SAM_VERSION" "aws-sam-cli==$SAM_VERSION" sam
install "$TOOLS/checkov-$CHECKOV_VERSION" "checkov==$CHECKOV_VERSION" checkov

echo "export INTAKE_SAM=$TOOLS/sam-$SAM_VERSION/bin/sam"
echo "export INTAKE_CHECKOV=$TOOLS/checkov-$CHECKOV_VERSION/bin/checkov"
