"""subscribe() against a scripted WebSocket server: pongs, frame ACK/NACK and reconnection.

The relay cannot be told to drop a connection on cue, so a small server stands in for it here.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, List

from websockets.asyncio.server import ServerConnection, serve

from agent_dispatch import ADMPClient, Message

DELIVERY = {
    "id": "5f0c1a8e-3b7d-4c2a-9e61-0d4f2b8a7c13",
    "version": "1.0",
    "type": "event",
    "from": "agent://a",
    "to": "agent://b",
    "subject": "s",
    "body": {},
    "timestamp": "2025-01-01T00:00:00Z",
    "ttl_sec": 86400,
    "status": "leased",
    "lease_until": "2099-01-01T00:00:00.000Z",
    "lease_id": "0b6f1e2d-8a4c-4f3e-9d7b-5c2a1e0f9d8c",
    "attempts": 0,
}


async def test_answers_pings_settles_by_frame_and_reconnects_after_a_drop() -> None:
    received: List[Any] = []
    connections: List[str] = []

    async def relay(ws: ServerConnection) -> None:
        connections.append(ws.request.path if ws.request else "")
        n = len(connections)
        await ws.send(json.dumps({"type": "welcome", "session_id": f"s{n}"}))
        await ws.send(json.dumps({"type": "ping"}))
        await ws.send(json.dumps({"type": "message", "message": {**DELIVERY, "subject": f"c{n}"}}))
        # Two answers per connection: the pong and the settlement of the message.
        for _ in range(2):
            received.append(json.loads(await ws.recv()))
        if n == 1:
            await ws.close()  # the client must come back on its own
        else:
            await ws.wait_closed()

    async def handle(message: Message) -> None:
        if message.subject == "c2":
            raise RuntimeError("fails on the second connection")

    async with serve(relay, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with ADMPClient(relay_url=f"http://127.0.0.1:{port}", agent_id="b", api_key="k") as client:
            subscription = client.subscribe(handle, lease_duration=45)
            for _ in range(100):
                if len(received) >= 4:
                    break
                await asyncio.sleep(0.05)
            await subscription.close()

    assert connections[0] == "/v1/agents/b/ws?visibility_timeout=45"
    assert len(connections) == 2 and subscription.connects == 2
    assert subscription.session_id == "s2"
    assert {"type": "pong"} in received[:2] and {"type": "pong"} in received[2:]
    assert {"type": "ack", "message_id": DELIVERY["id"]} in received[:2]
    assert {"type": "nack", "message_id": DELIVERY["id"]} in received[2:]
