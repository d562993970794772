"""``subscribe`` and ``messages`` for the blocking client: the async machinery on a background thread.

The thread runs its own event loop and its own async client, so WebSocket pings are answered
while a handler works; each handler call runs in a worker thread of that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from .models import Message
from .realtime import Subscription, Transport

_Pending = Tuple[Message, "Future[None]"]


class _Nacked(Exception):
    """Tells the subscription to nack the message in hand."""


class SyncSubscription:
    """A subscription running on a background thread. Stop it with :meth:`close`.

    Attributes:
        error: The error that ended the subscription (bad credentials, say), or ``None``.
    """

    def __init__(
        self,
        options: Dict[str, Any],
        handler: Callable[[Message], Any],
        *,
        transport: Transport = "websocket",
        lease_duration: int = 30,
        wait: int = 20,
    ) -> None:
        """Start the background thread; see :meth:`agent_dispatch.ADMPClientSync.subscribe`."""
        self._options = options
        self._handler = handler
        self._settings = dict(transport=transport, lease_duration=lease_duration, wait=wait)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self._subscription: Optional[Subscription] = None
        self._ready = threading.Event()
        self.error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="admp-subscription", daemon=True)
        self._thread.start()
        self._ready.wait()

    def __enter__(self) -> SyncSubscription:
        """Return the subscription itself."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the subscription."""
        self.close()

    @property
    def session_id(self) -> Optional[str]:
        """The relay's session id from the latest WebSocket ``welcome`` frame."""
        return self._subscription.session_id if self._subscription else None

    def wait_connected(self, timeout: Optional[float] = None) -> None:
        """Block until the WebSocket has been welcomed (returns at once for ``poll``)."""
        if self._loop is None or self._subscription is None:
            return
        asyncio.run_coroutine_threadsafe(self._subscription.wait_connected(timeout), self._loop).result()

    def join(self, timeout: Optional[float] = None) -> None:
        """Block until the subscription ends (after :meth:`close`, or on a fatal error)."""
        self._thread.join(timeout)

    def close(self) -> None:
        """Stop receiving, let the message in hand finish and be settled, and join the thread."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            # The loop may have stopped on its own (a fatal error) between the check and the call.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from .client import ADMPClient

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with ADMPClient(**self._options) as client:
            handler = self._handler

            async def call(message: Message) -> None:
                await asyncio.get_running_loop().run_in_executor(None, handler, message)

            self._subscription = client.subscribe(call, **self._settings)  # type: ignore[arg-type]
            self._ready.set()
            stop = asyncio.ensure_future(self._stop.wait())
            ended = asyncio.ensure_future(self._subscription.wait())
            await asyncio.wait({stop, ended}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if ended.done() and ended.exception() is not None:
                self.error = ended.exception()
            await self._subscription.close()


class SyncMessageStream:
    """Incoming messages as a blocking iterator: ``with client.messages() as inbox: for m in inbox``.

    A message is acked when the loop body finishes (``break`` included, inside ``with``) and nacked
    when it raises. Without ``with``, a message the loop leaves early is nacked, never acked.
    """

    def __init__(self, options: Dict[str, Any], **settings: Any) -> None:
        """Prepare the stream; the background subscription starts on first use."""
        self._options = options
        self._settings = settings
        self._pending: queue.Queue[_Pending] = queue.Queue(maxsize=1)
        self._subscription: Optional[SyncSubscription] = None
        self._current: Optional[Future[None]] = None
        self._closing = False

    def __enter__(self) -> SyncMessageStream:
        """Start receiving."""
        self._start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Ack the message in hand on a clean exit, nack it on an exception, and stop."""
        self._settle(ok=exc_type is None)
        self.close()

    def __iter__(self) -> Iterator[Message]:
        """Iterate over messages until the stream is closed or the subscription fails."""
        subscription = self._start()
        try:
            while True:
                try:
                    message, self._current = self._pending.get(timeout=0.2)
                except queue.Empty:
                    if not subscription._thread.is_alive():
                        if subscription.error is not None:
                            raise subscription.error from None
                        return
                    continue
                yield message
                self._settle(ok=True)
        finally:
            self._settle(ok=False)

    def close(self) -> None:
        """Stop receiving; a message in hand, or received and not yet handed out, is nacked."""
        self._closing = True
        self._settle(ok=False)
        while not self._pending.empty():
            _, done = self._pending.get_nowait()
            done.set_exception(_Nacked())
        if self._subscription is not None:
            self._subscription.close()

    def _start(self) -> SyncSubscription:
        if self._subscription is None:
            self._subscription = SyncSubscription(self._options, self._hand_over, **self._settings)
        return self._subscription

    def _hand_over(self, message: Message) -> None:
        if self._closing:
            raise _Nacked()
        done: Future[None] = Future()
        self._pending.put((message, done))
        done.result()

    def _settle(self, *, ok: bool) -> None:
        current, self._current = self._current, None
        if current is not None and not current.done():
            if ok:
                current.set_result(None)
            else:
                current.set_exception(_Nacked())
