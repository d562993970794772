"""Every credential the relay takes, with both clients, and Ed25519-signed envelopes end to end."""

from __future__ import annotations

import base64
import time
from typing import Any, Dict, List, Optional

import httpx
import jwt as pyjwt
import pytest

from agent_dispatch import (
    ADMPClient,
    ADMPClientSync,
    PermissionDeniedError,
    public_key_b64,
    verify_envelope,
)

from .conftest import Agent, Relay, register

MODES = ["api_key", "hmac", "jwt"]


def token(relay: Relay, agent_id: str, permissions: Optional[List[str]] = None) -> str:
    claims: Dict[str, Any] = {"sub": agent_id, "exp": int(time.time()) + 300}
    if permissions is not None:
        claims["permissions"] = permissions
    return pyjwt.encode(claims, relay.jwt_secret, algorithm="HS256")


def credential(relay: Relay, agent: Agent, mode: str) -> Dict[str, str]:
    if mode == "api_key":
        return {"api_key": agent.api_key}
    if mode == "hmac":
        return {"hmac_secret": agent.hmac_secret}
    return {"jwt": token(relay, agent.agent_id)}


@pytest.mark.parametrize("mode", MODES)
async def test_the_async_client_works_with(relay: Relay, alice: Agent, bob: Agent, mode: str) -> None:
    async with ADMPClient(
        relay_url=relay.url, agent_id=alice.agent_id, **credential(relay, alice, mode)
    ) as a:
        async with ADMPClient(
            relay_url=relay.url, agent_id=bob.agent_id, **credential(relay, bob, mode)
        ) as b:
            request_id = await a.send(bob.agent_id, "task.request", mode, {"mode": mode})
            # Identical requests in the same second: HMAC's nonce keeps them from looking like replays.
            assert (await b.inbox_stats()).ready == 1
            assert (await b.inbox_stats()).ready == 1
            message = await b.pull()
            assert message is not None and message.id == request_id
            await b.reply(message, result={"ok": mode})
            answer = await a.wait_for_reply(request_id, timeout=10)
            assert answer.correlation_id == request_id
            assert (await a.status(request_id)).status == "acked"


@pytest.mark.parametrize("mode", MODES)
def test_the_sync_client_works_with(relay: Relay, alice: Agent, bob: Agent, mode: str) -> None:
    with ADMPClientSync(relay_url=relay.url, agent_id=alice.agent_id, **credential(relay, alice, mode)) as a:
        with ADMPClientSync(relay_url=relay.url, agent_id=bob.agent_id, **credential(relay, bob, mode)) as b:
            message_id = a.send(bob.agent_id, "event", mode, {})
            assert b.pull() is not None
            assert b.inbox_stats().leased == 1
            b.nack(message_id, extend=5)
            b.ack(message_id)
            assert a.status(message_id).status == "acked"


async def test_a_jwt_without_the_send_permission_is_refused(relay: Relay, alice: Agent, bob: Agent) -> None:
    narrow = token(relay, alice.agent_id, ["send:billing.*", "pull"])
    async with ADMPClient(relay_url=relay.url, agent_id=alice.agent_id, jwt=narrow) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            await client.send(bob.agent_id, "event", "nope", {})
    assert caught.value.code == "forbidden"


SEED = bytes(range(32))


def register_key(relay: Relay, agent: Agent, kid: str, seed: bytes) -> None:
    with relay.admin() as admin:
        response = admin.post(
            f"/v1/agents/{agent.agent_id}/keys", json={"kid": kid, "public_key": public_key_b64(seed)}
        )
    assert response.status_code == 201, response.text


async def test_signed_envelopes_are_accepted_and_verifiable(relay: Relay, bob: Agent) -> None:
    signer = register(relay, "signer")
    register_key(relay, signer, "k1", SEED)
    async with ADMPClient(
        relay_url=relay.url, agent_id=signer.agent_id, api_key=signer.api_key, signing_key=SEED, kid="k1"
    ) as a:
        await a.send(bob.agent_id, "event", "signed", {"amount": 4.5, "note": "héllo"})
    async with ADMPClient(relay_url=relay.url, agent_id=bob.agent_id, api_key=bob.api_key) as b:
        message = await b.pull()
    assert message is not None and message.signature is not None and message.signature.kid == "k1"
    assert verify_envelope(message.to_wire(), base64.b64encode(bytes(32)).decode()) is False
    assert verify_envelope(message.to_wire(), public_key_b64(SEED)) is True


def test_a_signature_under_an_unregistered_key_is_refused(relay: Relay, bob: Agent) -> None:
    signer = register(relay, "signer")
    register_key(relay, signer, "k1", SEED)
    other = bytes(reversed(range(32)))
    with ADMPClientSync(
        relay_url=relay.url, agent_id=signer.agent_id, api_key=signer.api_key, signing_key=other, kid="k1"
    ) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            client.send(bob.agent_id, "event", "forged", {})
    assert caught.value.code == "invalid_signature"


def test_the_relay_url_may_end_with_a_slash(relay: Relay, alice: Agent) -> None:
    with ADMPClientSync(relay_url=relay.url + "/", agent_id=alice.agent_id, api_key=alice.api_key) as c:
        assert c.inbox_stats().ready == 0
    assert httpx.get(f"{relay.url}/health").json()["status"] == "healthy"
