"""How a run's problems travel: Halt ends it with a message for a person, note() lists them (bounded)."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

MAX_ERRORS = 50


def note(errors: list[str], message: str) -> None:
    """Add a message for a person, at most MAX_ERRORS of them, and count the rest."""
    if len(errors) < MAX_ERRORS:
        errors.append(message)
    elif len(errors) == MAX_ERRORS:
        errors.append("(more problems; not listed)")


class Halt(Exception):
    """Ends a run (or a plan) early; the message is for a person."""


def kafka_error(exc: BaseException) -> KafkaError | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None
