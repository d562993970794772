"""subscribe() and messages() on the async client, over the relay's WebSocket and over long polling."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

from agent_dispatch import ADMPClient, AuthenticationError, Message

from .conftest import Agent, Relay

TRANSPORTS = ["websocket", "poll"]


async def eventually(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_subscribe_hands_messages_over_in_order_and_acks_them(
    sender: ADMPClient, worker: ADMPClient, transport: str
) -> None:
    seen: List[Message] = []

    async def handle(message: Message) -> None:
        seen.append(message)

    subscription = worker.subscribe(handle, transport=transport)  # type: ignore[arg-type]
    try:
        await subscription.wait_connected(10)
        ids = [await sender.send(worker.agent_id, "event", f"n{n}", {"n": n}) for n in range(3)]

        async def all_acked() -> bool:
            return [(await sender.status(i)).status for i in ids] == ["acked"] * 3

        await eventually(all_acked)
        assert [m.id for m in seen] == ids
    finally:
        await subscription.close()
    assert subscription.closed


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_subscribe_nacks_when_the_handler_raises(
    sender: ADMPClient, worker: ADMPClient, transport: str
) -> None:
    attempts: List[int] = []

    async def fail_once(message: Message) -> None:
        attempts.append(message.attempts)
        if len(attempts) == 1:
            raise RuntimeError("not yet")

    subscription = worker.subscribe(fail_once, transport=transport)  # type: ignore[arg-type]
    try:
        await subscription.wait_connected(10)
        message_id = await sender.send(worker.agent_id, "task.request", "flaky", {})

        async def acked() -> bool:
            return (await sender.status(message_id)).status == "acked"

        await eventually(acked)
        assert attempts == [0, 1]
    finally:
        await subscription.close()


async def test_the_websocket_answers_pings_and_stays_open(sender: ADMPClient, worker: ADMPClient) -> None:
    # The session relay pings every second and closes a socket silent for two.
    got: List[str] = []

    async def handle(message: Message) -> None:
        got.append(message.subject)

    async with worker.subscribe(handle) as subscription:
        await subscription.wait_connected(10)
        await asyncio.sleep(3.5)
        await sender.send(worker.agent_id, "event", "after pings", {})

        async def delivered() -> bool:
            return got == ["after pings"]

        await eventually(delivered)
        assert subscription.connects == 1


async def test_a_wrong_key_ends_the_websocket_subscription_with_an_authentication_error(
    relay: Relay, bob: Agent
) -> None:
    async def handle(message: Message) -> None:
        raise AssertionError("no message expected")

    async with ADMPClient(relay_url=relay.url, agent_id=bob.agent_id, api_key="admp_0_wrong") as client:
        subscription = client.subscribe(handle)
        with pytest.raises(AuthenticationError):
            await subscription.wait_connected(10)
        with pytest.raises(AuthenticationError):
            await asyncio.wait_for(subscription.wait(), 10)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_messages_acks_a_finished_body_and_nacks_a_raising_one(
    sender: ADMPClient, worker: ADMPClient, transport: str
) -> None:
    first = await sender.send(worker.agent_id, "event", "first", {})
    second = await sender.send(worker.agent_id, "event", "second", {})
    with pytest.raises(RuntimeError):
        async with worker.messages(transport=transport) as inbox:  # type: ignore[arg-type]
            async for message in inbox:
                if message.id == second:
                    raise RuntimeError("fails on the second")

    async def settled() -> bool:
        return (await sender.status(first)).status == "acked" and (await sender.status(second)).attempts == 1

    await eventually(settled)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_messages_acks_the_message_a_loop_breaks_on(
    sender: ADMPClient, worker: ADMPClient, transport: str
) -> None:
    message_id = await sender.send(worker.agent_id, "event", "only", {})
    async with worker.messages(transport=transport) as inbox:  # type: ignore[arg-type]
        async for message in inbox:
            assert message.id == message_id
            break

    async def acked() -> bool:
        return (await sender.status(message_id)).status == "acked"

    await eventually(acked)
