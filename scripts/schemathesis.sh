#!/usr/bin/env bash
# Fuzz the receiver's HTTP API with schemathesis (PyPI) from its own OpenAPI document, in two
# passes, and fail on any server error (5xx):
#   signed    every webhook request is signed the way its sender signs it (scripts/schemathesis/
#             sign_hooks.py), so generated bodies reach parsing, normalization and the ingest path;
#             the run fails if any webhook operation never got past 401/404.
#   unsigned  nothing is signed: every webhook route must refuse (4xx) every case.
# Bounded: SCHEMATHESIS_MAX_EXAMPLES per operation, SCHEMATHESIS_MAX_TIME seconds per pass.
#
#   scripts/schemathesis.sh            # install (once, cached) + both passes
#   SCHEMATHESIS_MAX_EXAMPLES=200 SCHEMATHESIS_MAX_TIME=300 scripts/schemathesis.sh
#
# schemathesis lives in a venv under ~/.cache/changegate/schemathesis (pinned major version);
# changegate runs as `changegate start --embedded` on a free loopback port with secrets made up
# for this run. JUnit reports: $SCHEMATHESIS_REPORT_DIR/{signed,unsigned}/junit.xml.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

VENV="${SCHEMATHESIS_VENV:-$HOME/.cache/changegate/schemathesis}"
SPEC="${SCHEMATHESIS_VERSION:-schemathesis>=4.32,<5}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-45}"
REPORT_DIR="${SCHEMATHESIS_REPORT_DIR:-$PWD/test-results/schemathesis}"
started=$(date +%s)

if ! "$VENV/bin/st" --version >/dev/null 2>&1; then
  echo "schemathesis: installing '$SPEC' into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$SPEC"
fi
echo "schemathesis: $("$VENV/bin/st" --version)"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
log="$(mktemp)"
# Secrets made up for this run, long enough for the start-up key checks. No ServiceNow
# connection: the receiver alone is under test, no workers.
rand() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n' | head -c "$1"; }
github_secret="$(rand 40)"
gitlab_token="$(rand 40)"
azure_basic="st-azure:$(rand 32)"
whsec="whsec_$(head -c 32 /dev/urandom | base64)"
CHANGEGATE_GITHUB_SECRET="$github_secret" \
  CHANGEGATE_GITLAB_TOKEN="$gitlab_token" \
  CHANGEGATE_JENKINS_SECRET="$whsec" \
  CHANGEGATE_GENERIC_SECRET="$whsec" \
  CHANGEGATE_SERVICENOW_SECRET="$whsec" \
  CHANGEGATE_AZURE_DEVOPS_BASIC="$azure_basic" \
  CHANGEGATE_CONFIG="" KAFKA_BROKERS="" LOG_LEVEL=warn \
  node --import tsx src/cli.ts start --embedded --port "$port" >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 150); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "schemathesis: changegate did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done

status=0
run_pass() {
  local mode="$1"
  local dir="$REPORT_DIR/$mode"
  rm -rf "$dir" && mkdir -p "$dir"
  echo "schemathesis: $mode pass"
  # From inside the venv: schemathesis keeps its example database (.schemathesis/) in the
  # working directory, which must not be the repository.
  (cd "$VENV" && PYTHONPATH="$root/scripts/schemathesis" SCHEMATHESIS_HOOKS=sign_hooks \
    ST_MODE="$mode" ST_TALLY="$dir/tally.json" ST_GITHUB_SECRET="$github_secret" \
    ST_WHSEC="$whsec" ST_GITLAB_TOKEN="$gitlab_token" ST_AZURE_BASIC="$azure_basic" \
    ST_GENERIC_SOURCE="schemathesis" \
    "$VENV/bin/st" run "$base/openapi.json" \
    --checks not_a_server_error,refuses_unsigned \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_TIME" \
    --request-timeout 10 \
    --seed "${SCHEMATHESIS_SEED:-20261201}" \
    --report junit --report-dir "$dir" \
    --no-color) || status=1
  # The report file name is schemathesis' own; give it a fixed one for the totals.
  local junit
  junit="$(find "$dir" -name '*.xml' | head -1)"
  [ -n "$junit" ] && [ "$junit" != "$dir/junit.xml" ] && mv "$junit" "$dir/junit.xml"
  python3 "$root/scripts/schemathesis/tally.py" "$mode" "$dir/tally.json" || status=1
}
run_pass signed
run_pass unsigned

# A crash of the server is a failure too, even if every answer it gave was fine.
if ! kill -0 "$server" 2>/dev/null; then
  echo "schemathesis: changegate exited during the run:" >&2
  cat "$log" >&2
  status=1
fi
if grep -q '"level":50\|"level":60' "$log"; then
  echo "schemathesis: changegate logged errors during the run:" >&2
  grep '"level":50\|"level":60' "$log" | head -20 >&2
fi
echo "schemathesis: finished in $(($(date +%s) - started)) s, exit $status"
exit "$status"
