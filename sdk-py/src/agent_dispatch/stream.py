"""``messages()``: incoming messages as an async iterator, settled by how the loop body ends."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Optional, Tuple

from .models import Message
from .realtime import Inbox, Subscription, Transport

_Pending = Tuple[Message, "asyncio.Future[None]"]


class _Nacked(Exception):
    """Tells the subscription's worker to nack the message in hand."""


class MessageStream:
    """Incoming messages, one at a time, each settled when the loop moves on.

    Use it as ``async with client.messages() as inbox: async for message in inbox: ...``: a
    message is acked when the loop body finishes (the loop asks for the next one, ``break``s or
    ends) and nacked when the body raises. Without ``async with``, Python cannot tell a
    ``break`` from an exception, so a message the loop leaves early is nacked, never acked.
    """

    def __init__(
        self,
        client: Inbox,
        *,
        transport: Transport = "websocket",
        lease_duration: int = 30,
        wait: int = 20,
    ) -> None:
        """Prepare the stream; it connects on first use."""
        self._client = client
        self._options = dict(transport=transport, lease_duration=lease_duration, wait=wait)
        self._subscription: Optional[Subscription] = None
        self._pending: Optional[asyncio.Queue[_Pending]] = None
        self._current: Optional[asyncio.Future[None]] = None
        self._closing = False

    async def __aenter__(self) -> MessageStream:
        """Start receiving."""
        self._start()
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Ack the message in hand on a clean exit (``break`` included), nack it on an exception; stop."""
        self._settle(ok=exc_type is None)
        await self.close()

    def __aiter__(self) -> AsyncIterator[Message]:
        """Iterate over messages until the stream is closed."""
        return self._iterate()

    async def close(self) -> None:
        """Stop receiving; a message in hand, or received and not yet handed out, is nacked."""
        self._closing = True
        self._settle(ok=False)
        while self._pending is not None and not self._pending.empty():
            _, done = self._pending.get_nowait()
            done.set_exception(_Nacked())
        if self._subscription is not None:
            await self._subscription.close()

    async def _iterate(self) -> AsyncIterator[Message]:
        self._start()
        assert self._pending is not None and self._subscription is not None
        try:
            while True:
                getter = asyncio.ensure_future(self._pending.get())
                ended = asyncio.ensure_future(self._subscription.wait())
                await asyncio.wait({getter, ended}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    ended.result()  # re-raises the error that ended the subscription
                    return
                ended.cancel()
                message, self._current = getter.result()
                yield message
                self._settle(ok=True)
        finally:
            # Reached without __aexit__ only when the loop was left early: the body's fate is unknown.
            self._settle(ok=False)

    def _start(self) -> None:
        if self._subscription is None:
            self._pending = asyncio.Queue(maxsize=1)
            self._subscription = Subscription(self._client, self._hand_over, **self._options)  # type: ignore[arg-type]

    async def _hand_over(self, message: Message) -> None:
        if self._closing:
            raise _Nacked()
        assert self._pending is not None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._pending.put((message, done))
        await done

    def _settle(self, *, ok: bool) -> None:
        current, self._current = self._current, None
        if current is not None and not current.done():
            if ok:
                current.set_result(None)
            else:
                current.set_exception(_Nacked())
