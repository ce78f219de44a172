#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document (schemathesis, from PyPI) with every
# check schemathesis has: no server error, statuses, content types, headers and bodies as
# documented, schema-valid requests accepted and invalid ones refused (R57). What a
# schema-valid request may still be refused with is in .ci/schemathesis.toml.
# Usage: .ci/schemathesis.sh path/to/deputy
set -euo pipefail
DEPUTY=${1:?the deputy binary}
WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
"$DEPUTY" serve --listen 127.0.0.1:0 --db "$WORK/deputy.db" > "$WORK/out.txt" 2> "$WORK/log.txt" &
PID=$!
for _ in $(seq 1 100); do
    grep -q '^deputy: serving' "$WORK/out.txt" 2>/dev/null && break
    sleep 0.2
done
ADDR=$(sed -n 's|^deputy: serving http://\([^ ]*\) .*|\1|p' "$WORK/out.txt")
PASSWORD=$(sed -n 's|^ *password: *||p' "$WORK/out.txt")
BASE="http://$ADDR"
# Sign in with the one-time password and change it (R14: nothing else is allowed before).
TOKEN=$(python3 - "$BASE" "$PASSWORD" <<'PY'
import json, sys, urllib.request
base, password = sys.argv[1], sys.argv[2]
def post(path, body, token=None):
    request = urllib.request.Request(base + path, json.dumps(body).encode(), {"content-type": "application/json"})
    if token:
        request.add_header("authorization", "Bearer " + token)
    return json.load(urllib.request.urlopen(request))
first = post("/v1/auth/sign-in", {"logon": "admin", "password": password})["token"]
print(post("/v1/auth/password", {"current_password": password, "new_password": "schemathesis fuzzing passphrase"}, first)["token"])
PY
)
# Sign-out and password change would end the fuzzer's own session.
schemathesis --config-file "$(dirname "$0")/schemathesis.toml" run "$BASE/v1/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --exclude-path /v1/auth/sign-out --exclude-path /v1/auth/password \
    --checks all \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" \
    --workers 2
