#!/usr/bin/env bash
# Checks the README's first command: `make run` starts the local server on its defaults, the README's
# curl flow works against it (upload URL, PUT, list, show with OCR text), and Ctrl-C stops it cleanly.
# Uses a throw-away data directory and a free port (INTAKE_DATA_DIR / INTAKE_ADDR, as the README says).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

command -v jq >/dev/null 2>&1 || {
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends jq >&2
}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$port"
log="$work/server.log"
INTAKE_DATA_DIR="$work/data" INTAKE_ADDR="127.0.0.1:$port" setsid make run >"$log" 2>&1 &
server=$!
cleanup() { kill -KILL -- "-$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 1 900); do
  curl -sf "$API/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "smoke: make run exited" >&2; exit 1; }
  sleep 1
done
curl -sf "$API/health" >/dev/null || { tail -50 "$log"; echo "smoke: no server after 15 min" >&2; exit 1; }

# A striped test page, written with Python's standard library.
python3 - "$work/cheque.png" <<'PY'
import struct, sys, zlib
w, h = 400, 120
rows = []
for y in range(h):
    row = bytearray(b"\x00")
    for x in range(w):
        row.append(0 if (40 <= y < 80 and 40 <= x < 360 and (x // 20) % 2 == 0) else 255)
    rows.append(bytes(row))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
# A born-digital invoice (one page of text in Helvetica), for the README's PDF example.
python3 - "$work/invoice.pdf" <<'PY'
import sys
content = b"BT /F1 14 Tf 16 TL 56 780 Td (ACME Supplies Ltd) Tj T* (Invoice INV-2041) Tj T* (Total due: 31.00 EUR) Tj ET"
objects = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
]
out, offsets = bytearray(b"%PDF-1.7\n"), []
for i, body in enumerate(objects, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
open(sys.argv[1], "wb").write(out)
PY
cd "$work"

# The README's flow, with the admin key the first start wrote to the data directory.
KEY=$(cat "$work/data/admin-key")
auth=(-H "authorization: Bearer $KEY")
[ "$(curl -s -o /dev/null -w '%{http_code}' $API/images)" = 401 ] || { echo "smoke: the API answers without a key" >&2; exit 1; }
ticket=$(curl -s "${auth[@]}" -X POST $API/uploads -H 'content-type: application/json' \
  -d "{\"filename\":\"cheque.png\",\"contentType\":\"image/png\",\"sizeBytes\":$(stat -c %s cheque.png)}")
mapfile -t headers < <(jq -r '.requiredHeaders | to_entries[] | "-H\(.key): \(.value)"' <<<"$ticket")
curl -sf -X PUT "$(jq -r .uploadUrl <<<"$ticket")" "${headers[@]}" --data-binary @cheque.png
id=$(jq -r .imageId <<<"$ticket")
for _ in $(seq 1 120); do
  status=$(curl -s "${auth[@]}" $API/images/$id | jq -r .status)
  case "$status" in PROCESSED|REJECTED|FAILED) break ;; esac
  sleep 0.5
done
record=$(curl -s "${auth[@]}" $API/images/$id)
[ "$(jq -r .status <<<"$record")" = PROCESSED ] || { echo "$record"; echo "smoke: not processed" >&2; exit 1; }
[ "$(jq -r .sha256 <<<"$record")" = "$(sha256sum cheque.png | cut -d' ' -f1)" ] || { echo "smoke: sha256 differs" >&2; exit 1; }
[ "$(curl -s "${auth[@]}" $API/images | jq -r '.images[0].imageId')" = "$id" ] || { echo "smoke: not listed" >&2; exit 1; }
curl -sf "$(jq -r .downloadUrl <<<"$record")" | cmp - cheque.png
# Search by a word of the file name; the web app's page with its policy.
[ "$(curl -s "${auth[@]}" "$API/images?q=cheque" | jq -r '.images[0].match.snippet[0].text')" = cheque ] \
  || { echo "smoke: search does not find the image by its name" >&2; exit 1; }
# (Read whole first: `grep -q` stops at its match, and a curl still writing would fail the pipe.)
page=$(curl -sfi $API/) && grep -qi "^content-security-policy: default-src 'none'" <<<"$page" \
  || { echo "smoke: no web app at /" >&2; exit 1; }

# Every `curl` example of the README, as written: from the data directory's parent (the README reads
# the key from .intake/admin-key), with API pointed at this server and curl failing on any 4xx or 5xx.
ln -s "$work/data" "$work/.intake"
python3 - "$root/README.md" "$API" >"$work/examples.sh" <<'PY'
import re, sys
text, api = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
print("set -euo pipefail")
print('curl() { command curl --fail-with-body "$@"; }')
blocks = [b for b in re.findall(r"^```sh\n(.*?)^```$", text, re.S | re.M) if "curl " in b]
for block in blocks:
    lines = [l for l in block.splitlines() if not l.startswith("cargo run")]
    print("\n".join(lines).replace("API=http://127.0.0.1:8080", f"API={api}"))
print(f"echo; echo 'smoke: {len(blocks)} README blocks with curl ran'")
PY
grep -q "curl" "$work/examples.sh" || { echo "smoke: no curl examples found in the README" >&2; exit 1; }
bash "$work/examples.sh" >"$work/examples.out" 2>&1 || { cat "$work/examples.out"; echo "smoke: a README example failed" >&2; exit 1; }
tail -1 "$work/examples.out"
# The README's PDF was read from its text layer, and its searchable PDF has the text.
grep -q '"text-layer"' "$work/examples.out" || { cat "$work/examples.out"; echo "smoke: the README's PDF was not read page by page" >&2; exit 1; }
grep -q "Total due: 31.00 EUR" <<<"$(pdftotext "$work/invoice-searchable.pdf" -)" \
  || { echo "smoke: the searchable PDF has not the invoice's text" >&2; exit 1; }

# The binary `make run` built has no SigV4 signer (the CLI's `iam` feature): an API Gateway URL says
# how to build one that signs, with the usage exit code, instead of sending an unsigned call.
bin="${CARGO_TARGET_DIR:-$root/target}/release/intake"
set +e
out=$("$bin" list --api https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com 2>&1)
code=$?
set -e
[ "$code" = 2 ] && grep -q -- "--features iam" <<<"$out" \
  || { echo "$out"; echo "smoke: an IAM API with the default build: exit $code" >&2; exit 1; }

# Ctrl-C: the server stops by itself.
kill -INT -- "-$server"
for _ in $(seq 1 60); do kill -0 "$server" 2>/dev/null || break; sleep 0.5; done
! kill -0 "$server" 2>/dev/null || { echo "smoke: still running after Ctrl-C" >&2; exit 1; }
grep -q "shutting down" "$log" || { tail -20 "$log"; echo "smoke: no graceful shutdown" >&2; exit 1; }
echo "smoke: make run serves the README's flow (image $id processed) and stops on Ctrl-C"
