"""The durable outbox between the parcel path and the publisher (see :mod:`edge.outbox.store`)."""
from edge.outbox.store import Outbox, OutboxError, OutboxItem

__all__ = ["Outbox", "OutboxError", "OutboxItem"]
