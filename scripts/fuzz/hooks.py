"""Schemathesis hooks for `npm run fuzz` (scripts/fuzz.sh).

Random data alone never gets past the relay's front door: it has no credential, no agent that
exists, no envelope signed off by the clock, no lease to settle. So every other case is turned
into a request that should succeed: real credentials, a fresh envelope, a message leased just
before an ACK, NACK or REPLY. The rest stay as generated, so the validation paths are fuzzed too.
Either way the checks are the same: no 5xx, and every response as spec/openapi.json describes it.
"""

from __future__ import annotations

import itertools
import json
import os
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from typing import Any

import schemathesis

URL = os.environ["ADMP_FUZZ_URL"]
ADMIN_KEY = os.environ["ADMP_FUZZ_ADMIN_KEY"]
SENDER = "fuzz.sender"
INBOX = "fuzz.inbox"


def call(method: str, path: str, token: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{URL}{path}", data=data, method=method)
    request.add_header("authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {path}: {error.code} {error.read().decode()}") from None


def register(agent_id: str) -> str:
    created = call("POST", "/v1/agents", ADMIN_KEY, {"agent_id": agent_id, "tier": "unlimited"})
    return str(created["api_key"])


KEYS = {SENDER: register(SENDER), INBOX: register(INBOX)}
# A live session, so a broadcast has a recipient.
call("POST", f"/v1/agents/{INBOX}/sessions", KEYS[INBOX])


def envelope(to: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "task.request",
        "from": f"agent://{SENDER}",
        "to": to,
        "subject": "fuzz",
        "body": {"n": 1},
        "timestamp": datetime.now(timezone.utc).isoformat(),
    }


def leased() -> dict[str, Any]:
    """A message sent to the inbox and leased by it just now: something to settle."""
    call("POST", f"/v1/agents/{INBOX}/messages", KEYS[SENDER], envelope(f"agent://{INBOX}"))
    while True:
        message = call("POST", f"/v1/agents/{INBOX}/inbox/pull?visibility_timeout=60", KEYS[INBOX])
        if message is not None:
            return dict(message)


turn = itertools.count()


def as_agent(case: Any, agent_id: str) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEYS[agent_id]}"}
    # New dictionaries throughout: generated cases may share theirs.
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters = {**case.path_parameters, "id": agent_id}


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: Any) -> None:
    case.headers = {"Authorization": f"Bearer {ADMIN_KEY}", **(case.headers or {})}
    path, method = case.operation.path, case.method.upper()
    if method == "DELETE" and (case.path_parameters or {}).get("id") in KEYS:
        # Generated cases reuse ids seen in responses; the agents every other case needs stay, and
        # deleting is fuzzed on an agent that is not there.
        case.path_parameters = {**case.path_parameters, "id": "fuzz.absent"}
    if next(turn) % 2:
        return
    if (method, path) == ("POST", "/v1/agents/{id}/messages"):
        as_agent(case, SENDER)
        case.path_parameters = {**case.path_parameters, "id": INBOX}
        case.body = envelope(f"agent://{INBOX}")
    elif (method, path) == ("POST", "/v1/broadcast"):
        as_agent(case, SENDER)
        case.body = envelope("agent://*")
    elif (method, path) == ("POST", "/v1/messages/batch"):
        as_agent(case, SENDER)
        case.body = {"messages": [envelope(f"agent://{INBOX}") for _ in range(3)]}
    elif path in ("/v1/agents/{id}/inbox/pull", "/v1/agents/{id}/inbox/pull-batch"):
        call("POST", f"/v1/agents/{INBOX}/messages", KEYS[SENDER], envelope(f"agent://{INBOX}"))
        as_agent(case, INBOX)
        case.query = {"visibility_timeout": 30}
    elif path == "/v1/agents/{id}/inbox/ack-batch":
        message = leased()
        as_agent(case, INBOX)
        case.body = {"acks": [{"message_id": message["id"], "lease_id": message["lease_id"]}]}
    elif path.startswith("/v1/agents/{id}/messages/{mid}/"):
        message = leased()
        as_agent(case, INBOX)
        case.path_parameters = {**case.path_parameters, "mid": message["id"]}
        case.query = {"lease_id": message["lease_id"]}
        if path.endswith("/nack") and next(turn) % 2:
            case.query["extend"] = 30
        if path.endswith("/reply"):
            case.body = {"result": {"ok": True}}
    elif path.startswith("/v1/agents/{id}") and method != "DELETE":
        # Its own inbox, keys and sessions, read and added to, never taken away.
        as_agent(case, INBOX)
