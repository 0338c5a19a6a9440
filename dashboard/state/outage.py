"""A failed cycle in plain words: what an on-call engineer reads first, librdkafka's text one click away.

librdkafka's messages ("Local: Timed out (... Connect to ipv4#127.0.0.1:9092 failed: Connection
refused (after 0ms in state CONNECT))") are precise but not a sentence; the banner leads with
what they mean and keeps the raw text in a details element. First match wins: a refused
connection usually also ends in a time-out, and the refusal is the more useful of the two.
"""

from __future__ import annotations

PLAIN_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Connection refused", "ECONNREFUSED"), "No broker accepts connections: Kafka is down or not listening there."),
    (
        ("Failed to resolve", "Name or service not known", "nodename nor servname"),
        "The brokers' host names do not resolve (DNS, or a wrong bootstrap address).",
    ),
    (("SASL", "Authentication failed", "authentication"), "The brokers refuse the dashboard's login (SASL)."),
    (("SSL", "handshake", "certificate"), "The TLS connection to the brokers fails (certificate or protocol)."),
    (("Authorization", "AUTHORIZATION"), "The dashboard's user may not describe the cluster (ACLs)."),
    (
        ("Timed out", "timed out", "TIMED_OUT", "all brokers down", "All broker connections are down"),
        "No broker answered in time: Kafka is down, overloaded, or the network is cut.",
    ),
)
UNKNOWN_CAUSE = "The cluster could not be read."


def plain_cause(message: str) -> str:
    """One sentence saying what a failed cycle's raw error text means."""
    for needles, sentence in PLAIN_CAUSES:
        if any(n in message for n in needles):
            return sentence
    return UNKNOWN_CAUSE
