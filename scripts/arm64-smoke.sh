#!/usr/bin/env bash
# The arm64 smoke of the Lambda functions (the template's architecture): builds both for aarch64 with
# Debian's Rust toolchain (scripts/arm64-toolchain.sh: rustup has no aarch64 standard library on these
# machines), fetches the arm64 OCR models layer (scripts/ocr-models.sh), and runs the end-to-end test's
# arm64 case, one upload read by PP-OCR in the processor, under qemu-user against moto.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/arm64-toolchain.sh)"
eval "$(scripts/backends.sh)"
target="${CARGO_TARGET_DIR:-target}"
RUSTC="$INTAKE_ARM64_RUSTC" cargo build --release --locked -p intake-lambda --bins \
  --target aarch64-unknown-linux-gnu
models="$(INTAKE_MODELS_ARCH=aarch64 scripts/ocr-models.sh "$target/lambda-arm64/intake-models")"
INTAKE_ARM64_BIN_DIR="$target/aarch64-unknown-linux-gnu/release" INTAKE_ARM64_MODELS_DIR="$models" \
  cargo test --locked -p intake-lambda --test e2e -- --nocapture the_arm64_bootstraps
