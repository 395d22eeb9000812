"""schemathesis hooks: sign every generated webhook request the way its sender does.

Loaded with SCHEMATHESIS_HOOKS=sign_hooks (scripts/schemathesis.sh puts this folder on
PYTHONPATH). Without signatures every generated case stops at the 401 of the signature check and
the fuzzer never reaches parsing, normalization or the ingest path.

- ST_MODE=signed: each case is signed over the exact bytes that are sent (the hook serializes
  the body itself and hands schemathesis those bytes, so nothing re-encodes them afterwards):
    GitHub            X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
                      (docs.github.com "Validating webhook deliveries")
    Standard Webhooks webhook-id / webhook-timestamp / webhook-signature: v1,<base64 HMAC-SHA256(
                      key, "{id}.{timestamp}.{body}")>, key = base64 of the secret after whsec_
                      (standard-webhooks spec/standard-webhooks.md, "Signature scheme")
    GitLab            X-Gitlab-Token: <token> (docs.gitlab.com, "Webhooks" > "Custom headers /
                      secret token")
    Azure DevOps      Authorization: Basic … of the service hook (learn.microsoft.com, service
                      hooks "Webhooks" > basic authentication)
  Delivery ids are fresh per case, so the dedupe window does not answer every case "duplicate".
- ST_MODE=unsigned: nothing is added, and the check `refuses_unsigned` fails any webhook route
  that answers 2xx/3xx to a request it could not have verified.

Every response's status is tallied per operation into ST_TALLY (JSON), so the shell script can
prove that no operation was stuck on 401/404 in the signed pass.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections import defaultdict

import schemathesis
from schemathesis.core import NOT_SET

MODE = os.environ.get("ST_MODE", "signed")
GITHUB_SECRET = os.environ.get("ST_GITHUB_SECRET", "")
WHSEC = os.environ.get("ST_WHSEC", "")
GITLAB_TOKEN = os.environ.get("ST_GITLAB_TOKEN", "")
AZURE_BASIC = os.environ.get("ST_AZURE_BASIC", "")
GENERIC_SOURCE = os.environ.get("ST_GENERIC_SOURCE", "")
TALLY_FILE = os.environ.get("ST_TALLY")

STANDARD_WEBHOOK_ROUTES = ("/hooks/jenkins", "/hooks/servicenow", "/hooks/generic/{source}")

_tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def _route(case) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


def _body_bytes(case) -> bytes:
    body = case.body
    if body is NOT_SET or body is None and case.media_type is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str) and not (case.media_type or "").endswith("json"):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _set_header(case, name: str, value: str) -> None:
    headers = dict(case.headers or {})
    # Drop any generated spelling of the same header (headers are case-insensitive on the wire).
    for existing in list(headers):
        if existing.lower() == name.lower():
            del headers[existing]
    headers[name] = value
    case.headers = headers


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path
    if MODE != "signed" or not path.startswith("/hooks/"):
        return
    body = _body_bytes(case)
    # Hand schemathesis the exact bytes that were signed (see transport/prepare.py BODY_KWARGS).
    kwargs["data"] = body
    _set_header(case, "Content-Type", case.media_type or "application/json")
    if path == "/hooks/github":
        digest = hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
        _set_header(case, "X-Hub-Signature-256", f"sha256={digest}")
        _set_header(case, "X-GitHub-Delivery", str(uuid.uuid4()))
    elif path in STANDARD_WEBHOOK_ROUTES:
        if path == "/hooks/generic/{source}" and GENERIC_SOURCE:
            case.path_parameters = {**(case.path_parameters or {}), "source": GENERIC_SOURCE}
        msg_id = f"msg_{uuid.uuid4().hex}"
        timestamp = str(int(time.time()))
        key = base64.b64decode(WHSEC.removeprefix("whsec_"))
        signed = f"{msg_id}.{timestamp}.".encode() + body
        signature = base64.b64encode(_hmac(key, signed)).decode()
        _set_header(case, "webhook-id", msg_id)
        _set_header(case, "webhook-timestamp", timestamp)
        _set_header(case, "webhook-signature", f"v1,{signature}")
    elif path == "/hooks/gitlab":
        _set_header(case, "X-Gitlab-Token", GITLAB_TOKEN)
        # A generated Standard-Webhooks signature would be checked instead of the token.
        headers = {k: v for k, v in (case.headers or {}).items() if not k.lower().startswith("webhook-")}
        case.headers = headers
    elif path == "/hooks/azure-devops":
        token = base64.b64encode(AZURE_BASIC.encode()).decode()
        _set_header(case, "Authorization", f"Basic {token}")


@schemathesis.hook
def after_call(context, case, response):
    _tally[_route(case)][str(response.status_code)] += 1


@schemathesis.check
def refuses_unsigned(ctx, response, case):
    """In the unsigned pass no webhook route may accept what it could not verify."""
    if MODE != "unsigned" or not case.operation.path.startswith("/hooks/"):
        return None
    if response.status_code < 400:
        raise AssertionError(
            f"{_route(case)} answered {response.status_code} to an unsigned request"
        )
    return None


def _write_tally() -> None:
    if not TALLY_FILE:
        return
    with open(TALLY_FILE, "w", encoding="utf-8") as out:
        json.dump({route: dict(codes) for route, codes in _tally.items()}, out, indent=1, sort_keys=True)


atexit.register(_write_tally)
