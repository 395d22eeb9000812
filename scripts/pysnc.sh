#!/usr/bin/env bash
# ServiceNow's own Python client (pysnc, PyPI) against the ServiceNow sandbox: the sandbox runs
# as a real process (`changegate sandbox servicenow`) on a free loopback port over HTTPS (pysnc
# refuses http:// instances) with a throw-away self-signed certificate, and the pytest suite in
# test/servicenow-client/ drives it as it would drive a real instance.
#
#   scripts/pysnc.sh                 # install (once, cached) + run
#   PYSNC_REPORT_DIR=out scripts/pysnc.sh -k attachment
#
# pysnc and pytest live in a venv under ~/.cache/changegate/pysnc (pinned pysnc 1.2.x). Extra
# arguments go to pytest. Exits non-zero when a test fails or the sandbox dies.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${PYSNC_VENV:-$HOME/.cache/changegate/pysnc}"
SPEC="${PYSNC_VERSION:-pysnc>=1.2,<1.3}"
REPORT_DIR="${PYSNC_REPORT_DIR:-$PWD/test-results/pysnc}"
started=$(date +%s)

if ! "$VENV/bin/python" -c 'import pysnc, pytest' >/dev/null 2>&1; then
  echo "pysnc: installing '$SPEC' and pytest into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$SPEC" 'pytest>=8,<9'
fi
echo "pysnc: $("$VENV/bin/python" -c 'import importlib.metadata as m; print("pysnc", m.version("pysnc"), "pytest", m.version("pytest"))')"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="https://127.0.0.1:$port"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=127.0.0.1' \
  -addext 'subjectAltName=IP:127.0.0.1' \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1

LOG_LEVEL=warn node --import tsx src/cli.ts sandbox servicenow --port "$port" \
  --tls-key "$work/key.pem" --tls-cert "$work/cert.pem" >"$work/sandbox.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 150); do
  curl -fsS --cacert "$work/cert.pem" "$base/sandbox/admin/faults" >/dev/null 2>&1 && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "pysnc: the sandbox did not start:" >&2
    cat "$work/sandbox.log" >&2
    exit 1
  fi
  sleep 0.2
done

mkdir -p "$REPORT_DIR"
status=0
# requests prefers REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the environment over a session's verify.
REQUESTS_CA_BUNDLE="$work/cert.pem" CURL_CA_BUNDLE="$work/cert.pem" \
  PYTHONDONTWRITEBYTECODE=1 PYSNC_INSTANCE="$base" PYSNC_CA="$work/cert.pem" \
  PYSNC_USER=changegate.integration PYSNC_PASSWORD=changegate \
  "$VENV/bin/python" -m pytest test/servicenow-client -p no:cacheprovider -q \
  --junitxml="$REPORT_DIR/junit.xml" "$@" || status=$?

if ! kill -0 "$server" 2>/dev/null; then
  echo "pysnc: the sandbox exited during the run:" >&2
  cat "$work/sandbox.log" >&2
  status=1
fi
echo "pysnc: finished in $(($(date +%s) - started)) s, exit $status"
exit "$status"
