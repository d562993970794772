"""Retries, errors and request building without a relay (respx stands in for it)."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from agent_dispatch import (
    ADMPClient,
    ADMPClientSync,
    APIConnectionError,
    APIError,
    ConflictError,
    PermissionDeniedError,
    RateLimitError,
    TimeoutError,
    ValidationError,
)
from agent_dispatch._retry import RetryPolicy, parse_retry_after

URL = "http://relay.test"
SEND = f"{URL}/v1/agents/b/messages"
CREATED = httpx.Response(201, json={"message_id": "m1", "status": "delivered"})


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    # Backoff waits up to base * 2**attempt; zero keeps the suite fast and the count exact.
    monkeypatch.setattr("agent_dispatch._retry.random.uniform", lambda a, b: 0.0)


def error(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code} happened"}, "request_id": "req-1"}
    return httpx.Response(status, json=body, headers=headers)


@respx.mock
async def test_retries_a_5xx_with_the_same_body_and_idempotency_key() -> None:
    route = respx.post(SEND).mock(side_effect=[error(503, "unavailable"), error(500, "internal"), CREATED])
    async with ADMPClient(relay_url=URL, agent_id="a", api_key="k") as client:
        assert await client.send("b", "event", "s", {"n": 1}) == "m1"
    assert route.call_count == 3
    bodies = {call.request.content for call in route.calls}
    keys = {call.request.headers["idempotency-key"] for call in route.calls}
    assert len(bodies) == 1 and len(keys) == 1
    assert route.calls[0].request.headers["authorization"] == "Bearer k"


@respx.mock
async def test_each_send_call_gets_its_own_idempotency_key() -> None:
    route = respx.post(SEND).mock(return_value=CREATED)
    async with ADMPClient(relay_url=URL, agent_id="a", api_key="k") as client:
        await client.send("b", "event", "s", {})
        await client.send("agent://b", "event", "s", {})
    keys = {call.request.headers["idempotency-key"] for call in route.calls}
    assert len(keys) == 2


@respx.mock
async def test_honours_retry_after_on_429_then_gives_up_with_a_rate_limit_error() -> None:
    route = respx.post(SEND).mock(return_value=error(429, "rate_limited", **{"Retry-After": "0"}))
    async with ADMPClient(relay_url=URL, agent_id="a", api_key="k", retries=2) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.send("b", "event", "s", {})
    assert route.call_count == 3
    assert caught.value.retry_after == 0 and caught.value.code == "rate_limited"


@respx.mock
async def test_does_not_retry_a_4xx() -> None:
    route = respx.post(SEND).mock(return_value=error(409, "id_conflict"))
    async with ADMPClient(relay_url=URL, agent_id="a", api_key="k") as client:
        with pytest.raises(ConflictError) as caught:
            await client.send("b", "event", "s", {})
    assert route.call_count == 1
    err = caught.value
    assert (err.status_code, err.code, err.message, err.request_id) == (
        409, "id_conflict", "id_conflict happened", "req-1",
    )  # fmt: skip


@respx.mock
async def test_network_errors_are_retried_then_raised_as_connection_errors() -> None:
    route = respx.post(SEND).mock(side_effect=httpx.ConnectError("refused"))
    async with ADMPClient(relay_url=URL, agent_id="a", api_key="k", retries=3) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.send("b", "event", "s", {})
    assert route.call_count == 4 and caught.value.status_code is None


@respx.mock
async def test_a_request_that_times_out_raises_the_sdk_timeout_error() -> None:
    respx.post(SEND).mock(side_effect=httpx.ReadTimeout("slow"))
    async with ADMPClient(relay_url=URL, agent_id="a", api_key="k", retries=1) as client:
        with pytest.raises(TimeoutError):
            await client.send("b", "event", "s", {})


@respx.mock
async def test_hmac_signs_every_attempt_afresh_with_a_nonce() -> None:
    route = respx.post(url__startswith=SEND).mock(side_effect=[error(502, "bad_gateway"), CREATED])
    async with ADMPClient(relay_url=URL, agent_id="a", hmac_secret="s" * 64) as client:
        await client.send("b", "event", "s", {})
    requests = [call.request for call in route.calls]
    assert all(r.url.params.get("nonce") for r in requests)
    assert requests[0].url.params["nonce"] != requests[1].url.params["nonce"]
    assert requests[0].headers["x-signature"] != requests[1].headers["x-signature"]
    assert requests[0].headers["x-agent-id"] == "a" and "authorization" not in requests[0].headers


@respx.mock
async def test_jwt_goes_as_a_bearer_token_and_signing_adds_a_signature() -> None:
    route = respx.post(SEND).mock(return_value=CREATED)
    seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    async with ADMPClient(relay_url=URL, agent_id="a", jwt="e.y.j", signing_key=seed, kid="k1") as client:
        await client.send("b", "event", "s", {"x": 1}, correlation_id="c-1")
    request = route.calls[0].request
    envelope = json.loads(request.content)
    assert request.headers["authorization"] == "Bearer e.y.j"
    assert envelope["signature"]["kid"] == "k1" and envelope["signature"]["alg"] == "ed25519"
    assert envelope["from"] == "agent://a" and envelope["to"] == "agent://b"
    assert envelope["correlation_id"] == "c-1" and envelope["timestamp"].endswith("Z")


@respx.mock
def test_the_sync_client_retries_and_maps_errors_the_same_way() -> None:
    route = respx.post(SEND).mock(side_effect=[error(503, "unavailable"), error(403, "sender_mismatch")])
    with ADMPClientSync(relay_url=URL, agent_id="a", api_key="k") as client:
        with pytest.raises(PermissionDeniedError) as caught:
            client.send("b", "event", "s", {})
    assert route.call_count == 2 and caught.value.code == "sender_mismatch"


@respx.mock
def test_a_non_json_error_still_raises_with_its_status() -> None:
    respx.get(f"{URL}/v1/agents/a/inbox/stats").mock(return_value=httpx.Response(400, text="nope"))
    with ADMPClientSync(relay_url=URL, agent_id="a", api_key="k") as client:
        with pytest.raises(ValidationError) as caught:
            client.inbox_stats()
    assert caught.value.status_code == 400 and caught.value.message == "nope"


def test_the_retry_policy_caps_retry_after_and_stops_after_its_retries() -> None:
    policy = RetryPolicy(retries=2)
    rate_limited = RateLimitError("slow down", retry_after=7)
    assert policy.delay(0, rate_limited, 7) == 7
    assert policy.delay(0, rate_limited, 3600) == 60
    assert policy.delay(2, rate_limited, 7) is None
    assert policy.delay(0, APIError("x", status_code=404, code="not_found")) is None
    assert policy.delay(0, APIError("x", status_code=408, code="timeout")) is not None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("12") == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None


def test_exactly_one_credential_is_required() -> None:
    with pytest.raises(ValueError):
        ADMPClientSync(relay_url=URL, agent_id="a")
    with pytest.raises(ValueError):
        ADMPClientSync(relay_url=URL, agent_id="a", api_key="k", jwt="j")
    with pytest.raises(ValueError):
        ADMPClientSync(relay_url=URL, agent_id="a", api_key="k", signing_key=b"\0" * 32)
