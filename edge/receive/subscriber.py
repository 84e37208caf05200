"""A receiver's MQTT 5 connection: persistent session, resubscribe on every connect.

Receivers run for months like the units do.  A persistent session (fixed
client id, no clean start, a session expiry) lets the broker keep QoS 1
messages for a receiver that is briefly away; paho acknowledges a message only
after our callback returned, so whatever the callback stored is never lost.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

MessageFn = Callable[[str, bytes, Any], None]
SESSION_EXPIRY_S = 7 * 24 * 3600


def add_broker_arguments(parser: argparse.ArgumentParser, client_id: str) -> None:
    parser.add_argument("--host", default="localhost", help="broker host")
    parser.add_argument("--port", type=int, default=1883, help="broker port")
    parser.add_argument("--units", nargs="+", default=["parcel-edge/+"], metavar="PREFIX",
                        help="unit topic prefixes; MQTT wildcards allowed (default parcel-edge/+)")
    parser.add_argument("--client-id", default=client_id, help="fixed id: the broker keeps its session")
    parser.add_argument("--username", default=None)
    parser.add_argument("--password-file", type=Path, default=None)
    parser.add_argument("--ca-file", type=Path, default=None, help="TLS: the broker's CA")
    parser.add_argument("--cert-file", type=Path, default=None, help="TLS client certificate")
    parser.add_argument("--key-file", type=Path, default=None, help="TLS client key")


def _session_properties() -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    return props


def _client(args: argparse.Namespace) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=args.client_id,
                         protocol=MQTTProtocolVersion.MQTTv5)
    if args.ca_file or args.cert_file:
        client.tls_set(ca_certs=str(args.ca_file) if args.ca_file else None,
                       certfile=str(args.cert_file) if args.cert_file else None,
                       keyfile=str(args.key_file) if args.key_file else None)
    if args.username:
        password = args.password_file.read_text().strip() if args.password_file else None
        client.username_pw_set(args.username, password)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def subscriber(args: argparse.Namespace, filters: Sequence[str], on_message: MessageFn) -> mqtt.Client:
    """A connected-in-background client that calls ``on_message(topic, payload, properties)``."""
    client = _client(args)

    def connected(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        c.subscribe([(f, 1) for f in filters])
        log.info("subscribed to %s (session present: %s)", ", ".join(filters), flags.session_present)

    def message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        on_message(msg.topic, bytes(msg.payload), msg.properties)

    client.on_connect = connected
    client.on_message = message
    client.connect_async(args.host, args.port, keepalive=30, clean_start=False,
                         properties=_session_properties())
    return client


def unit_filters(units: Sequence[str]) -> list[str]:
    """Everything a receiver needs of each unit: alerts, records and their images."""
    return [f for unit in units for f in (f"{unit}/alerts", f"{unit}/parcels", f"{unit}/images/#")]


def listen(args: argparse.Namespace, on_message: MessageFn, done: Any) -> None:
    """Subscribe to ``args.units`` and deliver messages until ``done`` is set or the timeout."""
    client = subscriber(args, unit_filters(args.units), on_message)
    client.loop_start()
    try:
        done.wait(args.timeout or None)
    finally:
        client.disconnect()
        client.loop_stop()
