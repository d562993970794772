"""The leases this client holds, so that ``ack("<id>")`` still names the lease it got.

SPEC: a stale holder may not settle a message that was leased again, so the SDK always passes the
``lease_id`` of the lease it holds. It also keeps messages that :meth:`wait_for_reply` leased while
looking for a reply, and hands them out on the next ``pull`` instead of giving them back (which
would count an attempt against them).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timezone
from typing import Any, Deque, List, Mapping, Optional, Tuple, Union

from .models import Message

LeaseRef = Union[Message, str, Mapping[str, Any]]
"""A message, its id, or ``{"message_id": …, "lease_id": …}`` as the relay names a lease."""

_MAX_TRACKED = 10_000


class LeaseBook:
    """Message id → lease id of recent deliveries, plus the messages held back for ``pull``."""

    def __init__(self) -> None:
        """Start empty."""
        self._leases: OrderedDict[str, str] = OrderedDict()
        self._held: Deque[Message] = deque()

    def remember(self, message: Message) -> None:
        """Record the lease a delivery came with."""
        if message.lease_id:
            self._leases[message.id] = message.lease_id
            self._leases.move_to_end(message.id)
            while len(self._leases) > _MAX_TRACKED:
                self._leases.popitem(last=False)

    def lease_for(self, message_id: str) -> Optional[str]:
        """The lease id this client was given for ``message_id``, if it still knows it."""
        return self._leases.get(message_id)

    def ref_of(self, ref: LeaseRef) -> Tuple[str, Optional[str]]:
        """``(message_id, lease_id)`` of a message, an id (the lease remembered for it) or a wire ref."""
        if isinstance(ref, Message):
            return ref.id, ref.lease_id or self.lease_for(ref.id)
        if isinstance(ref, str):
            return ref, self.lease_for(ref)
        message_id = str(ref["message_id"])
        lease_id = ref.get("lease_id")
        return message_id, str(lease_id) if lease_id else self.lease_for(message_id)

    def forget(self, message_id: str) -> None:
        """Drop a settled message's lease."""
        self._leases.pop(message_id, None)

    def hold(self, message: Message) -> None:
        """Keep a leased message for the next ``pull``."""
        self._held.append(message)

    def take_held(self, now: Optional[datetime] = None) -> Optional[Message]:
        """Return the oldest held message whose lease is still running.

        Held messages whose lease has run out are dropped: the relay delivers them again.
        """
        now = now or datetime.now(timezone.utc)
        while self._held:
            message = self._held.popleft()
            if _lease_running(message, now):
                return message
        return None

    def take_held_up_to(self, count: int) -> List[Message]:
        """Return up to ``count`` held messages whose lease is still running, oldest first."""
        taken: List[Message] = []
        while len(taken) < count:
            message = self.take_held()
            if message is None:
                break
            taken.append(message)
        return taken


def _lease_running(message: Message, now: datetime) -> bool:
    if not message.lease_until:
        return False
    try:
        until = datetime.fromisoformat(message.lease_until.replace("Z", "+00:00"))
    except ValueError:
        return False
    # A second of margin: a message about to expire is better left to the relay.
    return (until - now).total_seconds() > 1.0
