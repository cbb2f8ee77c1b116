#!/usr/bin/env bash
# Fuzzes the REST API against its contract, crates/intake-http/openapi.yaml: schemathesis generates valid
# and invalid requests (the spec's examples, its boundaries, random data, and sequences that follow
# the links between operations) and checks every answer with all its checks: no 5xx; statuses,
# headers and bodies as documented; valid input accepted and invalid input refused; credentials
# enforced (each secured operation is replayed without a key and with a wrong one: 401); one owner's
# images invisible to another (404).
#
# The server is a fresh `intake serve` on a free port with a throw-away data directory, run on its
# defaults (no INTAKE_* variable of the caller's environment reaches it). It is called with the admin
# key it writes on first start, and with a second owner's key made through its admin API.
#
# Builds nothing: the server is $INTAKE_BIN (default: `release/intake` of $CARGO_TARGET_DIR or
# ./target; `make fuzz-api` builds it first). Installs schemathesis once, in a venv under
# $INTAKE_TOOLS_DIR (default ~/.cache/intake/tools), like scripts/backends.sh. INTAKE_FUZZ_EXAMPLES
# sets the cases per operation and phase (default 500: under a minute on two cores), INTAKE_FUZZ_SEED
# the seed (default 42: every run generates the same cases). The JUnit and NDJSON reports and the
# server log stay in a temporary directory named at the end. Exits non-zero on any failure; the
# server is stopped however the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ST_VERSION="4.32.5"
TOOLS="${INTAKE_TOOLS_DIR:-$HOME/.cache/intake/tools}"
BIN="${INTAKE_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/intake}"
EXAMPLES="${INTAKE_FUZZ_EXAMPLES:-500}"
SEED="${INTAKE_FUZZ_SEED:-42}"
log() { echo "api-fuzz: $*" >&2; }

[ -x "$BIN" ] || { log "no server binary at $BIN (make fuzz-api builds it; or set INTAKE_BIN)"; exit 2; }

venv="$TOOLS/schemathesis-$ST_VERSION"
if [ ! -x "$venv/bin/st" ]; then
  log "installing schemathesis==$ST_VERSION into $venv"
  mkdir -p "$TOOLS"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION" >&2
fi
python="$venv/bin/python"

work=$(mktemp -d "${TMPDIR:-/tmp}/intake-api-fuzz.XXXXXX")
reports="$work/reports"
server="" fuzzer=""
cleanup() {
  for pid in $fuzzer $server; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # The keys go with the data; the reports and the server log stay.
  rm -rf "$work/data" "$work/auth.json" "$work/.hypothesis" "$work/.schemathesis"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset_intake=()
for name in $(compgen -e); do
  if [[ $name == INTAKE_* ]]; then unset_intake+=(-u "$name"); fi
done
env "${unset_intake[@]}" "$BIN" serve --addr 127.0.0.1:0 --data-dir "$work/data" --workers 1 \
  >"$work/server.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's/^Intake is serving at \(http:[^ ]*\) .*/\1/p' "$work/server.log")
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log" >&2; log "the server did not start"; exit 1; }
key=$(cat "$work/data/admin-key")
log "server at $url (log: $work/server.log)"

# Credentials are enforced before anything else is tested: without a key and with a wrong one, 401.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$url/images")" = 401 ] || { log "GET /images without a key is not 401"; exit 1; }
[ "$(code -H "Authorization: Bearer ik_wrong" "$url/images")" = 401 ] \
  || { log "GET /images with a wrong key is not 401"; exit 1; }
[ "$(code -H "Authorization: Bearer $key" "$url/images")" = 200 ] \
  || { log "GET /images with the admin key is not 200"; exit 1; }

# The second identity, and the Web Fuzzing Commons document naming both (see schemathesis.toml).
peer_key=$(curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"owner":"api-fuzz-peer","name":"api-fuzz peer"}' "$url/keys" \
  | "$python" -c 'import json, sys; print(json.load(sys.stdin)["apiKey"])') \
  || { log "could not create the peer's key (POST /keys)"; exit 1; }
(umask 077 && "$python" - "$key" "$peer_key" >"$work/auth.json") <<'PY'
import json, sys
users = zip(["admin", "peer"], sys.argv[1:])
print(json.dumps({"auth": [
    {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {key}"}]}
    for name, key in users
]}))
PY

# --workers 1: with two, hypothesis crashes on Python 3.11 (CPython gh-106905). Every phase runs
# (examples, coverage, fuzzing, stateful). From $work: hypothesis and schemathesis keep caches in
# the working directory.
cd "$work"
# In the background, so that Ctrl-C or a TERM stops it and the server at once (bash runs traps only
# between foreground commands).
timeout --kill-after=10 900 "$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" \
  run "$root/crates/intake-http/openapi.yaml" --url "$url" --auth-wfc "$work/auth.json" \
  --checks all --workers 1 --seed "$SEED" --max-examples "$EXAMPLES" \
  --report junit,ndjson --report-dir "$reports" &
fuzzer=$!
status=0
wait "$fuzzer" || status=$?
fuzzer=""
if [ "$status" -ne 0 ]; then
  log "FAILED (exit $status); reports in $reports, server log $work/server.log"
  exit "$status"
fi

# A check that finds nothing to do passes silently; make sure the two about identities did their
# probes: each secured operation of the spec was replayed without credentials (and refused with 401),
# and the peer was refused an image of the admin's (404).
"$python" - "$root/crates/intake-http/openapi.yaml" "$reports"/ndjson-*.ndjson "$url" <<'PY'
import json, sys, urllib.error, urllib.request

import yaml

spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
secured = {
    f"{method.upper()} {path}"
    for path, item in spec["paths"].items()
    for method, operation in item.items()
    if method in {"get", "put", "post", "delete", "patch"} and operation.get("security", spec["security"])
}
unauthenticated, peer_refused = set(), 0
with open(sys.argv[2], encoding="utf-8") as events:
    for line in events:
        recorder = json.loads(line).get("ScenarioFinished", {}).get("recorder", {})
        interactions = recorder.get("interactions") or {}
        for case_id, case in (recorder.get("cases") or {}).items():
            request, response = case["value"], (interactions.get(case_id) or {}).get("response")
            if response is None:
                continue
            label = f'{request["method"]} {request["path"]}'
            headers = request.get("headers") or {}
            if "Authorization" not in headers and "X-Api-Key" not in headers and response["status_code"] == 401:
                unauthenticated.add(label)
            if request.get("auth_identity") == "peer" and label == "GET /images/{imageId}":
                peer_refused += response["status_code"] == 404
# An operation the fuzzer never got a success from (a dead job to retry, a processed image to process
# again: nothing a generated request can create) was never replayed without credentials; it is probed
# here, with a well-formed id, and must answer 401 before anything else.
samples = {"imageId": "019ab3c4-5d6e-7f80-9a1b-2c3d4e5f6071",
           "webhookId": "wh_019ab3c45d6e7f809a1b2c3d4e5f6071",
           "keyId": "ab010203040506ff"}
probed = set()
for label in sorted(secured - unauthenticated):
    method, path = label.split(" ", 1)
    for name, value in samples.items():
        path = path.replace("{" + name + "}", value)
    request = urllib.request.Request(sys.argv[3] + path, method=method)
    try:
        status = urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as error:
        status = error.code
    if status == 401:
        probed.add(label)
missing = sorted(secured - unauthenticated - probed)
if missing or not peer_refused:
    sys.exit(f"api-fuzz: probes missing: without credentials for {missing}, as the peer: {peer_refused}")
print(f"api-fuzz: 401 without credentials on {len(unauthenticated)} operations "
      f"(and {len(probed)} probed directly: {sorted(probed)}), "
      f"{peer_refused} reads of the admin's images refused to the peer")
PY
log "passed; reports in $reports"
