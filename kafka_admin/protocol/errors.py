"""Kafka error codes met by the group APIs, by name (from the protocol guide's error table)."""

from __future__ import annotations

NAMES = {
    -1: "UNKNOWN_SERVER_ERROR",
    3: "UNKNOWN_TOPIC_OR_PARTITION",
    7: "REQUEST_TIMED_OUT",
    14: "COORDINATOR_LOAD_IN_PROGRESS",
    15: "COORDINATOR_NOT_AVAILABLE",
    16: "NOT_COORDINATOR",
    24: "INVALID_GROUP_ID",
    29: "TOPIC_AUTHORIZATION_FAILED",
    30: "GROUP_AUTHORIZATION_FAILED",
    31: "CLUSTER_AUTHORIZATION_FAILED",
    33: "UNSUPPORTED_SASL_MECHANISM",
    34: "ILLEGAL_SASL_STATE",
    35: "UNSUPPORTED_VERSION",
    42: "INVALID_REQUEST",
    58: "SASL_AUTHENTICATION_FAILED",
    69: "GROUP_ID_NOT_FOUND",
    100: "UNKNOWN_TOPIC_ID",
}
# Answers that say "ask again (elsewhere) soon": the coordinator moved or is loading.
RETRIABLE = frozenset({7, 14, 15, 16})


class KafkaProtocolError(Exception):
    """A broker answered with an error code; `code` is Kafka's number, str() names it."""

    def __init__(self, code: int, where: str, message: str | None = None) -> None:
        self.code = code
        self.where = where
        text = f"{where}: {error_name(code)}"
        super().__init__(f"{text} ({message})" if message else text)

    @property
    def retriable(self) -> bool:
        return self.code in RETRIABLE


def error_name(code: int) -> str:
    return NAMES.get(code, f"error code {code}")
