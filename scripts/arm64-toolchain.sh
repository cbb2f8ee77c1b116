#!/usr/bin/env bash
# Installs, idempotently, what building and running the Lambda functions for arm64 takes on an x86_64
# Debian 12 machine without rustup's aarch64 standard library (this project's machines reach only
# the crates, PyPI, Debian and npm registries):
#   - Debian's rustc-web 1.96 (bookworm-security; the workspace needs 1.95) with its x86_64 and aarch64
#     standard libraries, extracted under $INTAKE_TOOLS_DIR (default ~/.cache/intake/tools), so the
#     system's and rustup's compilers stay as they are
#   - Debian's arm64 glibc and C++ runtime (with gcc-aarch64-linux-gnu, which brings them) and
#     qemu-user-static, with apt-get; the bootstraps are linked by zig against glibc 2.34 instead
#     (scripts/build-lambda.sh), as Lambda's provided.al2023 has no newer one
#   - a sysroot for qemu-user: Debian's arm64 libraries and an arm64 /proc/cpuinfo (see below)
# Prints the variables the arm64 build and smoke read as `export` lines, so
# `eval "$(scripts/arm64-toolchain.sh)"` configures a shell. Progress goes to stderr.
set -euo pipefail

TOOLS="${INTAKE_TOOLS_DIR:-$HOME/.cache/intake/tools}"
VERSION="1.96.0+dfsg1-1~deb12u2"
LLVM="libllvm22"
root="$TOOLS/rust-web-1.96"
log() { echo "arm64-toolchain: $*" >&2; }

missing=()
for tool in aarch64-linux-gnu-gcc qemu-aarch64-static; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || ! dpkg -s "$LLVM" >/dev/null 2>&1 \
  || [ "${#missing[@]}" -gt 0 ]; then
  log "installing gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user-static and $LLVM with apt-get"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
    qemu-user-static "$LLVM" >&2
fi

if [ ! -x "$root/bin/rustc" ]; then
  log "extracting Debian's rustc-web $VERSION with the x86_64 and aarch64 standard libraries into $root"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # A private package index with arm64, so the system's apt configuration is left as it is.
  apt_arm64=(-o APT::Architecture=amd64 -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Dir::State::status=/dev/null)
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  apt-get "${apt_arm64[@]}" update -qq >&2
  (cd "$work/debs" && apt-get "${apt_arm64[@]}" download -qq \
    "rustc-web=$VERSION" "libstd-rust-web-1.96=$VERSION" "libstd-rust-web-dev=$VERSION" \
    "libstd-rust-web-dev:arm64=$VERSION" >&2)
  rm -rf "$root.partial" && mkdir -p "$root.partial"
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root.partial"; done
  mkdir -p "$root.partial/bin"
  # rustc finds its standard libraries next to itself (usr/lib/rustlib); its driver library is
  # beside them rather than in the system's library path.
  cat > "$root.partial/bin/rustc" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$root/usr/bin/rustc" "\$@"
WRAP
  chmod +x "$root.partial/bin/rustc"
  rm -rf "$root" && mv "$root.partial" "$root"
  ls "$root/usr/lib/rustlib/aarch64-unknown-linux-gnu/lib/"libstd-*.rlib >/dev/null
fi

# The sysroot qemu-user runs the functions with (-L): Debian's arm64 libraries, and the
# /proc/cpuinfo an arm64 Lambda (Graviton2, Neoverse N1) shows. qemu 7.2 passes the x86_64 host's
# own through, which ONNX Runtime's CPU detection (cpuinfo) cannot parse on arm64: it crashes.
sysroot="$TOOLS/arm64-sysroot"
mkdir -p "$sysroot/proc"
ln -sfn /usr/aarch64-linux-gnu/lib "$sysroot/lib"
for cpu in $(seq 0 $(($(nproc) - 1))); do
  printf 'processor\t: %d\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n' "$cpu"
done > "$sysroot/proc/cpuinfo"

echo "export INTAKE_ARM64_RUSTC=$root/bin/rustc"
echo "export INTAKE_QEMU_AARCH64=$(command -v qemu-aarch64-static)"
echo "export INTAKE_ARM64_SYSROOT=$sysroot"
