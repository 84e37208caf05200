"""MQTT 5 delivery of the outbox (see :mod:`edge.publish.publisher`)."""
from edge.publish.publisher import Publisher

__all__ = ["Publisher"]
