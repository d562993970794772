"""Request-response in Python: `pricing` asks `tax` for the tax on an order and waits for the answer.

The responder long-polls its inbox with pull(wait=...) and answers with reply(), which sends a
task.result carrying the request's correlation id and acks the request in one step. The requester
send()s and then wait_for_reply()s on that id, then pulls and acks the answer.

ADMP_URL and ADMP_API_KEY name the relay and its admin key (default: `npm start` on this machine
with the development key); the example registers its own agents and deletes them at the end.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Dict, List

import httpx

from agent_dispatch import ADMPClient

RELAY_URL = os.environ.get("ADMP_URL", "http://localhost:3030").rstrip("/")
ADMIN = {"Authorization": f"Bearer {os.environ.get('ADMP_API_KEY', 'dev-admin-key')}"}
RUN = uuid.uuid4().hex[:8]  # a per-run suffix, so the example can run again against one relay
TAX_RATE = 0.2


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(f"check failed: {what}")
    print(f"  ✓ {what}")


async def register(admin: httpx.AsyncClient, name: str) -> Dict[str, str]:
    """Registers `<name>.<run>` with the admin key; the API key is shown only this once."""
    response = await admin.post("/v1/agents", json={"agent_id": f"{name}.{RUN}"})
    if response.status_code != 201:
        raise RuntimeError(f"registering {name} failed: HTTP {response.status_code} {response.text}")
    body = response.json()
    return {"agent_id": body["agent_id"], "api_key": body["api_key"]}


async def respond_once(tax: ADMPClient, handled: List[str]) -> None:
    """The responder: take one task off the inbox (waiting for it) and answer it."""
    for _ in range(10):
        request = await tax.pull(lease_duration=30, wait=2)
        if request is None:
            continue
        amount = int(request.body["amount_cents"])
        await tax.reply(request, result={"tax_cents": round(amount * TAX_RATE), "rate": TAX_RATE})
        handled.append(request.id)
        return
    raise RuntimeError("the responder never received the request")


async def main() -> None:
    async with httpx.AsyncClient(base_url=RELAY_URL, headers=ADMIN, timeout=30) as admin:
        pricing_agent = await register(admin, "pricing-py")
        tax_agent = await register(admin, "tax-py")
        try:
            async with ADMPClient(relay_url=RELAY_URL, **pricing_agent) as pricing, ADMPClient(
                relay_url=RELAY_URL, **tax_agent
            ) as tax:
                handled: List[str] = []
                responder = asyncio.create_task(respond_once(tax, handled))

                request_id = await pricing.send(
                    tax_agent["agent_id"],
                    "task.request",
                    "compute_tax",
                    {"order": "A-1001", "amount_cents": 12_345},
                )
                print(f"  sent task.request {request_id}")
                answer = await pricing.wait_for_reply(request_id, timeout=15)
                print(f"  got {answer.type} {answer.body}")
                await responder
                # wait_for_reply only read the answer: it waits in the requester's inbox, so take it off.
                held = await pricing.pull()
                check(held is not None and held.id == answer.id, "the answer waits in the requester's inbox")
                if held is not None:
                    await pricing.ack(held)

                check(answer.type == "task.result", "the answer is a task.result")
                check(answer.correlation_id == request_id, "the answer's correlation_id is the request's id")
                check(answer.sender_id == tax_agent["agent_id"], "the answer comes from the tax agent")
                check(answer.body["tax_cents"] == 2469, "the tax is 20 % of 123.45, rounded: 24.69")
                check(handled == [request_id], "the responder handled exactly that request")
                check((await pricing.status(request_id)).status == "acked", "the request is acked")
                for name, client in (("requester", pricing), ("responder", tax)):
                    stats = await client.inbox_stats()
                    check(stats.ready + stats.leased == 0, f"the {name}'s inbox is empty")
        finally:
            for agent in (pricing_agent, tax_agent):
                await admin.delete(f"/v1/agents/{agent['agent_id']}")


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), timeout=60))
    except BaseException as error:  # any failure, a timeout included, is a non-zero exit
        print(f"request-response (Python): FAILED: {error!r}", file=sys.stderr)
        sys.exit(1)
    print("request-response (Python): ok")
