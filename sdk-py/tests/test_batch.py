"""send_batch, pull_batch and ack_batch against the live relay, with both clients."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Dict, List

import httpx
import pytest
import respx

from agent_dispatch import (
    ADMPClient,
    ADMPClientSync,
    BatchItem,
    NotFoundError,
    ValidationError,
    public_key_b64,
    verify_envelope,
)
from agent_dispatch._protocol import now_iso

from .conftest import Agent, Relay, register


def item(to: str, subject: str, **extra: Any) -> Dict[str, Any]:
    return {"to": to, "type": "task.request", "subject": subject, "body": {}, **extra}


async def inbox_of(relay: Relay, prefix: str) -> ADMPClient:
    agent = register(relay, prefix)
    return ADMPClient(relay_url=relay.url, agent_id=agent.agent_id, api_key=agent.api_key)


async def drain(inbox: ADMPClient) -> List[str]:
    """Every subject of an inbox, pulled and acked one by one, in the order it hands them out."""
    subjects = []
    while (message := await inbox.pull()) is not None:
        subjects.append(message.subject)
        await inbox.ack(message)
    return subjects


async def test_a_batch_reaches_two_recipients_and_an_unknown_recipient_fails_alone(
    relay: Relay, sender: ADMPClient
) -> None:
    billing, shipping = await inbox_of(relay, "billing"), await inbox_of(relay, "shipping")
    results = await sender.send_batch(
        [
            item(billing.agent_id, "b1"),
            BatchItem(to=f"agent://{shipping.agent_id}", type="event", subject="s1", body={"n": 1}),
            item("nobody.here", "lost"),
            item(billing.agent_id, "x" * 256),
            item(billing.agent_id, "b2"),
        ]
    )
    assert [r.ok for r in results] == [True, True, False, False, True]
    assert results[0].status == "delivered"
    lost, invalid = results[2], results[3]
    assert lost.error is not None and (lost.error.code, lost.error.status_code) == ("not_found", 404)
    with pytest.raises(NotFoundError):
        lost.raise_for_error()
    assert invalid.error is not None and (invalid.error.code, invalid.error.status_code) == (
        "validation_failed",
        422,
    )
    assert isinstance(invalid.error.exception(), ValidationError)
    assert len({r.message_id for r in results}) == 5
    assert await drain(billing) == ["b1", "b2"]
    assert await drain(shipping) == ["s1"]
    await billing.aclose()
    await shipping.aclose()


async def test_only_a_fault_of_the_whole_request_raises(relay: Relay, sender: ADMPClient) -> None:
    inbox = await inbox_of(relay, "many")
    with pytest.raises(ValidationError) as caught:
        await sender.send_batch([item(inbox.agent_id, f"m{i}") for i in range(101)])
    assert (caught.value.status_code, caught.value.code) == (422, "validation_failed")
    assert (await inbox.inbox_stats()).ready == 0
    with pytest.raises(ValueError):
        await sender.send_batch([{"to": inbox.agent_id, "subject": "no type or body"}])
    assert await sender.send_batch([]) == [] and await sender.ack_batch([]) == []
    with pytest.raises(ValueError, match="no lease_id known"):
        await sender.ack_batch([str(uuid.uuid4())])
    await inbox.aclose()


class LosesFirstAnswer(httpx.AsyncHTTPTransport):
    """Delivers every request, but "loses" the first answer on its way back."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: List[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        response = await super().handle_async_request(request)
        if len(self.bodies) == 1:
            await response.aclose()
            raise httpx.ReadError("connection reset", request=request)
        return response


async def test_a_batch_whose_answer_was_lost_is_retried_with_the_same_envelopes(relay: Relay) -> None:
    agent, inbox = register(relay, "lossy"), await inbox_of(relay, "lossy-inbox")
    transport = LosesFirstAnswer()
    async with httpx.AsyncClient(transport=transport) as http:
        client = ADMPClient(
            relay_url=relay.url, agent_id=agent.agent_id, api_key=agent.api_key, http_client=http
        )
        results = await client.send_batch([item(inbox.agent_id, "one"), item(inbox.agent_id, "two")])
    assert len(transport.bodies) == 2 and transport.bodies[0] == transport.bodies[1]
    sent = [m["id"] for m in json.loads(transport.bodies[0])["messages"]]
    assert [r.message_id for r in results] == sent and all(r.ok for r in results)
    assert await drain(inbox) == ["one", "two"]
    await inbox.aclose()


async def test_an_identical_batch_sent_again_returns_the_same_ids(relay: Relay, sender: ADMPClient) -> None:
    inbox = await inbox_of(relay, "again")
    timestamp = now_iso()
    items = [item(inbox.agent_id, s, id=str(uuid.uuid4()), timestamp=timestamp) for s in "abc"]
    first = await sender.send_batch(items)
    again = await sender.send_batch(items)
    assert [r.message_id for r in first] == [i["id"] for i in items]
    assert again == first
    assert await drain(inbox) == ["a", "b", "c"]
    await inbox.aclose()


async def test_pull_batch_leases_oldest_first_up_to_the_maximum_then_nothing(
    relay: Relay, sender: ADMPClient
) -> None:
    inbox = await inbox_of(relay, "pull")
    await sender.send_batch([item(inbox.agent_id, f"m{i}") for i in range(1, 6)])
    first = await inbox.pull_batch(max_messages=3, lease_duration=60)
    assert [m.subject for m in first] == ["m1", "m2", "m3"]
    assert all(m.status == "leased" and m.lease_id and m.attempts == 0 for m in first)
    assert [m.subject for m in await inbox.pull_batch(max_messages=10)] == ["m4", "m5"]
    assert await inbox.pull_batch() == []
    assert (await inbox.inbox_stats()).leased == 5
    await inbox.aclose()


async def test_pull_batch_waits_for_a_message_that_arrives_during_the_long_poll(
    relay: Relay, sender: ADMPClient
) -> None:
    inbox = await inbox_of(relay, "wait")
    waiting = asyncio.create_task(inbox.pull_batch(max_messages=5, wait=15))
    await asyncio.sleep(0.3)
    [sent] = await sender.send_batch([item(inbox.agent_id, "late")])
    assert sent.message_id in [m.id for m in await waiting]
    await inbox.aclose()


async def test_ack_batch_acks_by_lease_and_a_stale_lease_fails_alone(
    relay: Relay, sender: ADMPClient
) -> None:
    inbox = await inbox_of(relay, "ack")
    await sender.send_batch([item(inbox.agent_id, s) for s in ("a1", "a2", "a3", "a4")])
    a1, a2, a3, a4 = await inbox.pull_batch(max_messages=4)
    # a2 goes back and is leased again: the lease_id `a2` carries is stale from then on.
    await inbox.nack(a2)
    [again] = await inbox.pull_batch(max_messages=1)
    assert again.id == a2.id

    results = await inbox.ack_batch([a1, a2, {"message_id": a3.id, "lease_id": a3.lease_id}, a4.id])
    assert [(r.message_id, r.ok) for r in results] == [
        (a1.id, True),
        (a2.id, False),
        (a3.id, True),
        (a4.id, True),
    ]
    assert results[0].status == "acked"
    assert results[1].error is not None and results[1].error.code == "not_found"
    assert (await inbox.inbox_stats()).leased == 1
    assert [r.ok for r in await inbox.ack_batch([again])] == [True]
    assert (await sender.status(a2.id)).status == "acked"
    await inbox.aclose()


async def test_a_signed_batch_over_hmac_is_verifiable_item_by_item(relay: Relay, bob: Agent) -> None:
    seed = bytes(range(32))
    signer = register(relay, "batch-signer")
    with relay.admin() as admin:
        created = admin.post(
            f"/v1/agents/{signer.agent_id}/keys", json={"kid": "b1", "public_key": public_key_b64(seed)}
        )
    assert created.status_code == 201, created.text
    async with ADMPClient(
        relay_url=relay.url,
        agent_id=signer.agent_id,
        hmac_secret=signer.hmac_secret,
        signing_key=seed,
        kid="b1",
    ) as client:
        results = await client.send_batch(
            [item(bob.agent_id, "s1", correlation_id="c-1"), item(bob.agent_id, "s2", body={"é": [1, 2]})]
        )
    assert all(r.ok for r in results)
    with ADMPClientSync(relay_url=relay.url, agent_id=bob.agent_id, api_key=bob.api_key) as b:
        messages = b.pull_batch(max_messages=5)
    assert [m.subject for m in messages] == ["s1", "s2"]
    for message in messages:
        assert message.signature is not None and message.signature.kid == "b1"
        assert verify_envelope(message.to_wire(), public_key_b64(seed))


def test_the_sync_client_sends_pulls_and_acks_batches(relay: Relay, alice: Agent, bob: Agent) -> None:
    with ADMPClientSync(relay_url=relay.url, agent_id=alice.agent_id, api_key=alice.api_key) as a:
        with ADMPClientSync(relay_url=relay.url, agent_id=bob.agent_id, api_key=bob.api_key) as b:
            sent = a.send_batch(
                [item(bob.agent_id, "one"), item("nobody.here", "x"), item(bob.agent_id, "two")]
            )
            assert [r.ok for r in sent] == [True, False, True]
            with pytest.raises(NotFoundError):
                sent[1].raise_for_error()
            pulled = b.pull_batch(max_messages=10, lease_duration=60)
            assert [m.id for m in pulled] == [sent[0].message_id, sent[2].message_id]
            assert b.pull_batch() == []
            acked = b.ack_batch([pulled[0].id, pulled[1]])
            assert [r.status for r in acked] == ["acked", "acked"]
            assert [r.ok for r in b.ack_batch([pulled[0]])] == [False]


@respx.mock
async def test_item_errors_take_the_status_their_single_operation_would_have() -> None:
    answer = {
        "results": [
            {"message_id": "m1", "status": "delivered"},
            {"error": {"code": "policy_denied", "message": "no"}},
            {"message_id": "m3", "error": {"code": "something_new", "message": "?"}},
        ]
    }
    route = respx.post("http://relay.test/v1/messages/batch").mock(
        return_value=httpx.Response(200, json=answer)
    )
    with ADMPClientSync(relay_url="http://relay.test", agent_id="a", api_key="k") as client:
        results = client.send_batch([item("b", "1"), item("c", "2", id="m2"), item("d", "3")])
    assert json.loads(route.calls[0].request.content)["messages"][1]["id"] == "m2"
    assert [r.message_id for r in results] == ["m1", "m2", "m3"]
    assert results[1].error is not None and results[1].error.status_code == 403
    assert results[2].error is not None and results[2].error.status_code is None
    assert results[2].error.exception().code == "something_new"
