#!/usr/bin/env bash
# Fuzz the receiver's HTTP API with schemathesis (PyPI) from its own OpenAPI document and fail
# on any server error (5xx). Bounded: SCHEMATHESIS_MAX_EXAMPLES per operation and
# SCHEMATHESIS_MAX_TIME seconds for the whole run.
#
#   scripts/schemathesis.sh            # install (once, cached) + run
#   SCHEMATHESIS_MAX_EXAMPLES=200 SCHEMATHESIS_MAX_TIME=300 scripts/schemathesis.sh
#
# schemathesis lives in a venv under ~/.cache/changegate/schemathesis (pinned major version),
# changegate runs as `changegate start --embedded` on a free loopback port with known secrets:
# unsigned and wrongly signed requests must give 4xx, never 5xx, whatever the body. The GitLab
# token and Azure DevOps Basic auth are plain credentials, so they are sent with every request:
# those routes are fuzzed past authentication into parsing and normalizing. (HMAC-signed routes
# cannot be signed by schemathesis; the fast-check property tests cover valid signatures.)
set -euo pipefail
cd "$(dirname "$0")/.."

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
# Known secrets for every source, so every receiver route is live (404 otherwise). No ServiceNow
# connection: the receiver alone is under test, no workers.
whsec="whsec_$(head -c 32 /dev/urandom | base64)"
CHANGEGATE_GITHUB_SECRET="st-github-secret-0123456789" \
  CHANGEGATE_GITLAB_TOKEN="st-gitlab-token" \
  CHANGEGATE_JENKINS_SECRET="$whsec" \
  CHANGEGATE_GENERIC_SECRET="$whsec" \
  CHANGEGATE_SERVICENOW_SECRET="$whsec" \
  CHANGEGATE_AZURE_DEVOPS_BASIC="st-azure:st-password" \
  CHANGEGATE_CONFIG="" KAFKA_BROKERS="" LOG_LEVEL=warn \
  node --import tsx src/cli.ts start --embedded --port "$port" >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "schemathesis: changegate did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done

mkdir -p "$REPORT_DIR"
status=0
# From inside the venv: schemathesis keeps its example database (.schemathesis/) in the working
# directory, which must not be the repository.
(cd "$VENV" && "$VENV/bin/st" run "$base/openapi.json" \
  --checks not_a_server_error \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --request-timeout 10 \
  --header 'X-Gitlab-Token: st-gitlab-token' \
  --auth st-azure:st-password \
  --seed "${SCHEMATHESIS_SEED:-20261125}" \
  --report junit --report-dir "$REPORT_DIR" \
  --no-color) || status=$?

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
