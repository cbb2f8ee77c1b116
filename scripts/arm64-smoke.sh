#!/usr/bin/env bash
# The arm64 smoke of the Lambda functions (the template's architecture): builds both for aarch64 as
# `make build-lambda` does (scripts/build-lambda.sh: Debian's Rust toolchain, linked by zig for
# Lambda's glibc 2.34 and checked for it) in the test profile, fetches the arm64 OCR models layer
# (scripts/ocr-models.sh), and runs the end-to-end test's arm64 case, one upload read by PP-OCR in
# the processor, under qemu-user (as a Neoverse N1) against moto. Each step prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
step() { printf 'arm64-smoke: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)" >&2; }

step "toolchain and emulator"
eval "$(scripts/arm64-toolchain.sh)"
step "bootstraps for arm64, test profile, glibc <= 2.34"
bootstraps="$(scripts/build-lambda.sh --arch arm64 --profile dev --out "$target/lambda-smoke-arm64")"
step "arm64 models layer"
models="$(INTAKE_MODELS_ARCH=aarch64 scripts/ocr-models.sh "$target/lambda-arm64/intake-models")"
step "the end-to-end test's arm64 case under qemu-user"
eval "$(scripts/backends.sh)"
# The workspace's own test build (`make test`'s selection and features), so CI reuses it.
INTAKE_ARM64_LAMBDA_DIR="$bootstraps" INTAKE_ARM64_MODELS_DIR="$models" \
  cargo test --workspace --all-features --locked --test e2e -- --nocapture the_arm64_bootstraps
step "done"
