"""Background delivery for the async client: ``subscribe`` and the receiving side of ``messages``.

Two transports feed one worker. ``websocket`` holds ``/v1/agents/{id}/ws`` open, answers the
relay's pings and reconnects with exponential backoff and jitter; ``poll`` long-polls PULL. The
worker runs the handler one message at a time, in delivery order, and settles each message: ACK
when the handler returns, NACK when it raises.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Literal, Optional, Protocol, Tuple

from . import _protocol as p
from ._retry import backoff
from .errors import APIError, AuthenticationError, NotFoundError, PermissionDeniedError, TimeoutError
from .models import Message


class Inbox(Protocol):
    """What a subscription needs of the client.

    Handing it this rather than :class:`ADMPClient` keeps this module free of an import of the
    client that imports it.
    """

    _core: p.ClientCore

    @property
    def agent_id(self) -> str:
        """The agent whose inbox this is."""

    async def pull(self, lease_duration: int = 30, wait: float = 0) -> Optional[Message]:
        """Lease the next message, waiting up to ``wait`` seconds."""

    async def ack(self, message: Message) -> None:
        """Acknowledge a message this subscription handled."""

    async def nack(self, message: Message) -> object:
        """Give back a message whose handler raised."""

    def _remember(self, message: Message) -> None:
        """Record the lease of a message pushed over the WebSocket."""


Transport = Literal["websocket", "poll"]
logger = logging.getLogger("agent_dispatch")
_Item = Tuple[Message, Any]
_FATAL = (AuthenticationError, PermissionDeniedError)


class Subscription:
    """A running subscription. Stop it with :meth:`close`; :meth:`wait` returns when it ends.

    Attributes:
        session_id: The relay's session id from the latest WebSocket ``welcome`` frame.
        connects: How many times the WebSocket connected (more than one means it reconnected).
    """

    def __init__(
        self,
        client: Inbox,
        handler: Callable[[Message], Awaitable[Any]],
        *,
        transport: Transport = "websocket",
        lease_duration: int = 30,
        wait: int = 20,
    ) -> None:
        """Start delivering in the background; see :meth:`ADMPClient.subscribe`."""
        if transport not in ("websocket", "poll"):
            raise ValueError('transport must be "websocket" or "poll"')
        self._client = client
        self._handler = handler
        self._transport = transport
        self._lease_duration = lease_duration
        self._wait = wait
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._ws: Any = None
        self._connected = asyncio.Event()
        self._error: Optional[BaseException] = None
        self.session_id: Optional[str] = None
        self.connects = 0
        self._receiver = asyncio.get_running_loop().create_task(self._receive())
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def __aenter__(self) -> Subscription:
        """Return the subscription itself."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the subscription."""
        await self.close()

    @property
    def closed(self) -> bool:
        """Whether the subscription has stopped receiving."""
        return self._receiver.done()

    async def wait_connected(self, timeout: Optional[float] = None) -> None:
        """Wait until the WebSocket has been welcomed (returns at once for ``poll``).

        Raises:
            APIError: the subscription ended first (say, on bad credentials).
            TimeoutError: not connected within ``timeout`` seconds.
        """
        if self._transport == "poll":
            return
        connected = asyncio.ensure_future(self._connected.wait())
        done, _ = await asyncio.wait(
            {connected, self._receiver}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if connected in done:
            return
        connected.cancel()
        if self._error is not None:
            raise self._error
        raise TimeoutError(f"not connected within {timeout} s", code="timeout")

    async def wait(self) -> None:
        """Wait until the subscription ends; re-raise the error that ended it, if any."""
        await asyncio.wait({self._receiver})
        if self._error is not None:
            raise self._error

    async def close(self) -> None:
        """Stop receiving, let the message in hand finish and be settled, then return.

        Messages received but not yet handed to the handler stay leased until their lease runs out.
        """
        self._receiver.cancel()
        if self._ws is not None:
            await self._ws.close()
        await asyncio.gather(self._receiver, return_exceptions=True)
        await self._queue.join()
        self._worker.cancel()
        await asyncio.gather(self._worker, return_exceptions=True)

    async def _receive(self) -> None:
        try:
            if self._transport == "poll":
                await self._poll()
            else:
                await self._websocket()
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            self._error = error
            logger.error("subscription for %s stopped: %s", self._client.agent_id, error)

    async def _poll(self) -> None:
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                message = await self._client.pull(self._lease_duration, wait=self._wait)
            except _FATAL:
                raise
            except APIError as error:
                logger.warning("pull failed, retrying: %s", error)
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                continue
            attempt = 0
            if message is None:
                # A relay without long polling answers at once: poll once a second instead.
                if time.monotonic() - started < 0.5:
                    await asyncio.sleep(1.0)
                continue
            await self._queue.put((message, None))
            await self._queue.join()

    async def _websocket(self) -> None:
        try:
            from websockets.asyncio.client import connect
            from websockets.exceptions import InvalidStatus, WebSocketException
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                'subscribe over WebSocket needs websockets: pip install "agent-dispatch-client[realtime]"'
            ) from error
        core = self._client._core
        attempt = 0
        while True:
            path = core.inbox(f"/ws?visibility_timeout={int(self._lease_duration)}")
            url, headers = core.authenticate(p.PreparedRequest("GET", path))
            try:
                async with connect(
                    "ws" + url[len("http") :], additional_headers=headers, open_timeout=core.timeout
                ) as ws:
                    self._ws = ws
                    self.connects += 1
                    async for raw in ws:
                        if await self._on_frame(ws, raw):
                            attempt = 0
            except InvalidStatus as error:
                status = error.response.status_code
                if status in (401, 403):
                    raise (AuthenticationError if status == 401 else PermissionDeniedError)(
                        f"WebSocket refused with {status}", status_code=status, code="unauthorized"
                    ) from error
                logger.warning("WebSocket refused with %s, reconnecting", status)
            except (OSError, WebSocketException, asyncio.TimeoutError) as error:
                logger.info("WebSocket closed (%s), reconnecting", error)
            finally:
                self._ws = None
                self._connected.clear()
            await asyncio.sleep(backoff(attempt))
            attempt += 1

    async def _on_frame(self, ws: Any, raw: Any) -> bool:
        try:
            frame = json.loads(raw)
        except ValueError:
            logger.warning("ignoring a WebSocket frame that is not JSON")
            return False
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            await ws.send(json.dumps({"type": "pong"}))
        elif kind == "welcome":
            self.session_id = frame.get("session_id")
            self._connected.set()
            return True
        elif kind == "message":
            message = Message.model_validate(frame["message"])
            self._client._remember(message)
            await self._queue.put((message, ws))
        elif kind == "error":
            logger.warning("relay refused a frame: %s %s", frame.get("code"), frame.get("message"))
        return False

    async def _work(self) -> None:
        while True:
            message, ws = await self._queue.get()
            try:
                await self._handle(message, ws)
            finally:
                self._queue.task_done()

    async def _handle(self, message: Message, ws: Any) -> None:
        try:
            await self._handler(message)
        except Exception as error:
            logger.warning("handler raised on %s, nacking: %r", message.id, error)
            await self._settle(message, ws, ok=False)
        else:
            await self._settle(message, ws, ok=True)

    async def _settle(self, message: Message, ws: Any, *, ok: bool) -> None:
        if ws is not None and ws is self._ws:
            frame = {"type": "ack" if ok else "nack", "message_id": message.id}
            try:
                await ws.send(json.dumps(frame))
                return
            except Exception as error:
                # The lease is the message's, not the connection's: settle it over HTTP instead.
                logger.info("WebSocket gone before settling %s (%r), settling over HTTP", message.id, error)
        try:
            if ok:
                await self._client.ack(message)
            else:
                await self._client.nack(message)
        except NotFoundError:
            logger.warning(
                "lease on %s ran out before it was settled; it will be delivered again", message.id
            )
        except Exception as error:
            logger.warning("could not settle %s (%r); its lease will run out", message.id, error)
