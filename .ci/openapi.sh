#!/usr/bin/env bash
# R57: the OpenAPI document the running server serves is valid OpenAPI 3.1, a standard
# generator builds a client from it that imports, and scenario S4 runs through that client
# against the same server. Both tools come from PyPI, pinned.
# Usage: .ci/openapi.sh path/to/deputy
set -euo pipefail
DEPUTY=${1:?the deputy binary}
WORK=$(mktemp -d)
PID=
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 -m pip install --quiet --disable-pip-version-check \
    'openapi-spec-validator==0.9.0' 'openapi-python-client==0.29.1'
"$DEPUTY" serve --listen 127.0.0.1:0 --db "$WORK/deputy.db" > "$WORK/out.txt" 2> "$WORK/log.txt" &
PID=$!
for _ in $(seq 1 100); do
    grep -q '^deputy: serving' "$WORK/out.txt" 2>/dev/null && break
    sleep 0.2
done
ADDR=$(sed -n 's|^deputy: serving http://\([^ ]*\) .*|\1|p' "$WORK/out.txt")
PASSWORD=$(sed -n 's|^ *password: *||p' "$WORK/out.txt")
if [ -z "$ADDR" ]; then
    echo "openapi.sh: the server did not start" >&2
    cat "$WORK/log.txt" >&2
    exit 1
fi
python3 - "http://$ADDR/v1/openapi.json" "$WORK/openapi.json" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1]) as answer:
    assert answer.status == 200, answer.status
    open(sys.argv[2], "wb").write(answer.read())
PY
# Validates against the OpenAPI 3.1 schema and the rules beyond it (path parameters that
# match their templates, unique operation ids, resolvable references).
python3 -m openapi_spec_validator --schema 3.1 --validation-errors all "$WORK/openapi.json"
# A generated client, with every warning an error: nothing of the document may be skipped.
# The generator reads text/* as text; /metrics answers OpenMetrics text.
cat > "$WORK/generator.yaml" <<'YAML'
content_type_overrides:
  application/openmetrics-text: text/plain
YAML
(cd "$WORK" && python3 -m openapi_python_client generate --path openapi.json --meta none \
    --config generator.yaml --output-path deputy_client --fail-on-warning)
# Every module of it imports (an operation for each route, a model for each schema).
(cd "$WORK" && python3 - <<'PY'
import importlib, pkgutil
import deputy_client
names = [m.name for m in pkgutil.walk_packages(deputy_client.__path__, "deputy_client.")]
for name in names:
    importlib.import_module(name)
print(f"openapi.sh: the generated client imports ({len(names)} modules)")
PY
)
# Scenario S4, typed end to end through the generated client (.ci/s4_client.py).
PYTHONPATH="$WORK" python3 "$(dirname "$0")/s4_client.py" "http://$ADDR" "$PASSWORD"
