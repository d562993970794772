"""Request building and response parsing, free of I/O: the async client and its sync twin share it.

Each operation is a ``build_*`` function that returns a :class:`PreparedRequest` and a ``parse_*``
function that reads an :class:`httpx.Response`. The clients only add the transport, the retry loop
and the sleeping.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

import httpx

from ._retry import RetryPolicy, parse_retry_after
from .errors import APIConnectionError, APIError, TimeoutError, error_for_status
from .hmac_auth import hmac_headers, with_nonce
from .models import InboxStats, Message, MessageStatus, NackResult, ReplyError, agent_id_of, agent_uri
from .signing import SigningKeyLike, load_signing_key, sign_envelope


@dataclass(frozen=True)
class PreparedRequest:
    """One HTTP request before authentication: method, path with query, exact body bytes."""

    method: str
    path: str
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    timeout: Optional[float] = None
    # A batch's message ids in request order, to pair with the relay's results.
    item_ids: Tuple[str, ...] = ()


class ClientCore:
    """The options both clients take, validated once, and what they need to authenticate."""

    def __init__(
        self,
        *,
        relay_url: str,
        agent_id: str,
        api_key: Optional[str] = None,
        hmac_secret: Optional[str] = None,
        jwt: Optional[str] = None,
        signing_key: Optional[SigningKeyLike] = None,
        kid: Optional[str] = None,
        retries: int = 3,
        timeout: float = 30.0,
    ) -> None:
        """Validate the options; see :class:`agent_dispatch.ADMPClient` for their meaning."""
        if sum(c is not None for c in (api_key, hmac_secret, jwt)) != 1:
            raise ValueError("pass exactly one of api_key, hmac_secret or jwt")
        if (signing_key is None) != (kid is None):
            raise ValueError("signing_key and kid go together: pass both or neither")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.relay_url = relay_url.rstrip("/")
        self.agent_id = agent_id_of(agent_id)
        self.api_key = api_key
        self.hmac_secret = hmac_secret
        self.jwt = jwt
        self.signing_key = load_signing_key(signing_key) if signing_key is not None else None
        self.kid = kid
        self.retry = RetryPolicy(retries=retries)
        self.timeout = timeout
        self._base_path = urlsplit(self.relay_url).path

    def authenticate(self, request: PreparedRequest) -> tuple[str, Dict[str, str]]:
        """Return the URL and headers for one attempt; HMAC is signed afresh with a new nonce."""
        path = request.path
        headers = dict(request.headers)
        if self.hmac_secret is not None:
            path = with_nonce(path)
            headers.update(
                hmac_headers(
                    self.agent_id,
                    self.hmac_secret,
                    str(int(time.time())),
                    request.method,
                    self._base_path + path,
                    request.body,
                )
            )
        else:
            headers["Authorization"] = f"Bearer {self.api_key if self.api_key is not None else self.jwt}"
        return self.relay_url + path, headers

    def inbox(self, suffix: str) -> str:
        """The path of this agent's ``/v1/agents/{id}`` resource plus ``suffix``."""
        return f"/v1/agents/{quote(self.agent_id, safe='')}{suffix}"

    def message_path(self, message_id: str, action: str, query: Mapping[str, Any]) -> str:
        """The path of ``/v1/agents/{id}/messages/{mid}/{action}`` with a query."""
        return with_query(self.inbox(f"/messages/{quote(message_id, safe='')}/{action}"), query)


def build_envelope(
    core: ClientCore,
    to: str,
    type: str,
    subject: str,
    body: Mapping[str, Any],
    *,
    correlation_id: Optional[str] = None,
    headers: Optional[Mapping[str, Any]] = None,
    ttl_sec: Optional[int] = None,
    message_id: Optional[str] = None,
    timestamp: Optional[str] = None,
) -> Dict[str, Any]:
    """Build one envelope: a fresh id and timestamp unless given, signed when the client has a key."""
    envelope: Dict[str, Any] = {
        "version": "1.0",
        "id": message_id or str(uuid.uuid4()),
        "type": type,
        "from": agent_uri(core.agent_id),
        "to": agent_uri(to),
        "subject": subject,
        "body": dict(body),
        "timestamp": timestamp or now_iso(),
    }
    if correlation_id is not None:
        envelope["correlation_id"] = correlation_id
    if headers is not None:
        envelope["headers"] = dict(headers)
    if ttl_sec is not None:
        envelope["ttl_sec"] = ttl_sec
    if core.signing_key is not None and core.kid is not None:
        envelope["signature"] = sign_envelope(envelope, core.signing_key, core.kid).model_dump()
    return envelope


def build_send(
    core: ClientCore,
    to: str,
    type: str,
    subject: str,
    body: Mapping[str, Any],
    *,
    correlation_id: Optional[str] = None,
    headers: Optional[Mapping[str, Any]] = None,
    ttl_sec: Optional[int] = None,
    idempotency_key: Optional[str] = None,
    delay_sec: Optional[int] = None,
) -> PreparedRequest:
    """Build a SEND: a fresh envelope id and timestamp, signed when the client has a key.

    The body bytes and the ``Idempotency-Key`` are fixed here, so every retry repeats them exactly.
    """
    envelope = build_envelope(
        core, to, type, subject, body, correlation_id=correlation_id, headers=headers, ttl_sec=ttl_sec
    )
    return PreparedRequest(
        method="POST",
        path=with_query(f"/v1/agents/{quote(agent_id_of(to), safe='')}/messages", {"delay": delay_sec}),
        body=json_bytes(envelope),
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key or str(uuid.uuid4()),
        },
    )


def build_pull(core: ClientCore, lease_duration: int, wait: float) -> PreparedRequest:
    """Build a PULL; a long poll gets a request timeout longer than its wait."""
    query: Dict[str, Any] = {"visibility_timeout": int(lease_duration)}
    if wait > 0:
        query["wait"] = int(wait) if float(wait).is_integer() else wait
    timeout = max(core.timeout, wait + 10) if wait > 0 else None
    return PreparedRequest("POST", with_query(core.inbox("/inbox/pull"), query), timeout=timeout)


def build_ack(core: ClientCore, message_id: str, lease_id: Optional[str]) -> PreparedRequest:
    """Build an ACK that names the lease this client holds, when it knows it."""
    return PreparedRequest("POST", core.message_path(message_id, "ack", {"lease_id": lease_id}))


def build_nack(
    core: ClientCore,
    message_id: str,
    lease_id: Optional[str],
    extend: Optional[int],
    delay_sec: Optional[int] = None,
) -> PreparedRequest:
    """Build a NACK: give the message back (ready again after ``delay_sec``), or ``extend`` the lease."""
    query = {"extend": extend, "delay": delay_sec, "lease_id": lease_id}
    return PreparedRequest("POST", core.message_path(message_id, "nack", query))


def build_reply(
    core: ClientCore,
    message: Message,
    result: Optional[Mapping[str, Any]],
    error: Union[ReplyError, Mapping[str, Any], None],
) -> PreparedRequest:
    """Build a REPLY with either ``result`` or ``error``; one idempotency key for all its retries."""
    if (result is None) == (error is None):
        raise ValueError("reply needs exactly one of result or error")
    if error is not None:
        err = error if isinstance(error, ReplyError) else ReplyError.model_validate(error)
        content: Dict[str, Any] = {"error": err.model_dump()}
    else:
        content = {"result": dict(result or {})}
    return PreparedRequest(
        "POST",
        core.message_path(message.id, "reply", {"lease_id": message.lease_id}),
        body=json_bytes(content),
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )


def build_stats(core: ClientCore) -> PreparedRequest:
    """Build an inbox STATS request."""
    return PreparedRequest("GET", core.inbox("/inbox/stats"))


def build_status(message_id: str) -> PreparedRequest:
    """Build a message STATUS request."""
    return PreparedRequest("GET", f"/v1/messages/{quote(message_id, safe='')}/status")


def parse_send(response: httpx.Response) -> str:
    """The message id a SEND (or REPLY) answered with."""
    return str(json_object(response)["message_id"])


def parse_pull(response: httpx.Response) -> Optional[Message]:
    """The leased message, or ``None`` for 204 (empty inbox)."""
    if response.status_code == 204 or not response.content:
        return None
    return Message.model_validate(json_object(response))


def parse_stats(response: httpx.Response) -> InboxStats:
    """Inbox counts."""
    return InboxStats.model_validate(json_object(response))


def parse_status(response: httpx.Response) -> MessageStatus:
    """A message's status."""
    return MessageStatus.model_validate(json_object(response))


def parse_nack(response: httpx.Response) -> NackResult:
    """What a NACK did."""
    return NackResult.model_validate(json_object(response))


def error_from_transport(method: str, path: str, exc: httpx.TransportError) -> APIError:
    """Turn a request that got no answer into `TimeoutError` or `APIConnectionError`."""
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(f"{method} {path}: {exc}", code="timeout")
    return APIConnectionError(f"{method} {path}: {exc}", code="connection_error")


def error_from_response(response: httpx.Response) -> APIError:
    """Turn a 4xx/5xx answer in the SPEC's error shape (or any other) into the matching error."""
    code, message, request_id = "api_error", response.reason_phrase or "request failed", None
    try:
        data = response.json()
        detail = data.get("error") if isinstance(data, dict) else None
        if isinstance(detail, dict):
            code = str(detail.get("code") or code)
            message = str(detail.get("message") or message)
        if isinstance(data, dict) and data.get("request_id"):
            request_id = str(data["request_id"])
    except ValueError:
        if response.text:
            message = response.text[:500]
    request_id = request_id or response.headers.get("x-request-id")
    return error_for_status(
        response.status_code,
        code,
        message,
        request_id=request_id,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def now_iso() -> str:
    """The current UTC time as the relay expects it: ISO 8601, milliseconds, ``Z``."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def with_query(path: str, query: Mapping[str, Any]) -> str:
    present = {k: v for k, v in query.items() if v is not None}
    return f"{path}?{urlencode(present)}" if present else path


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_object(response: httpx.Response) -> Dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise APIError("the relay answered with JSON that is not an object", status_code=response.status_code)
    return data
