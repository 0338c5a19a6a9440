"""Building librdkafka clients and reading their errors: shared by every module that talks to a broker.

Client construction lives here, not in the poll cycle, so the collector, the message reader, the offset
reset and the reprocess engine all build clients the same way (and a future out-of-process worker has
one place to call).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from kafka_admin.config import ClusterConfig

K = TypeVar("K", bound=Hashable)

# Fetch errors after which reading a partition cannot go on; anything else (a broker reconnecting)
# is given until the deadline to recover.
FETCH_STOP_ERRORS = frozenset(
    {
        KafkaError.OFFSET_OUT_OF_RANGE,
        KafkaError._AUTO_OFFSET_RESET,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError._UNKNOWN_TOPIC,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError._MSG_TIMED_OUT,
    }
)


def error_text(exc: BaseException) -> str:
    """A one-line, human message for a librdkafka error (never a traceback)."""
    if isinstance(exc, KafkaException) and exc.args:
        err = exc.args[0]
        text = err.str() if hasattr(err, "str") else str(err)
        return text or str(err)
    if isinstance(exc, TimeoutError):
        return str(exc) or "timed out"
    return f"{type(exc).__name__}: {exc}"


def make_admin(config: ClusterConfig, on_error: Callable[[Any], None] | None = None, **overrides: Any) -> AdminClient:
    conf = config.client_config(**overrides)
    conf["logger"] = logging.getLogger("kafka_admin.librdkafka")
    if on_error is not None:
        conf["error_cb"] = on_error
    return AdminClient(conf)


def run_bounded(
    keys: Sequence[K],
    launch: Callable[[list[K]], dict[K, Future]],
    *,
    batch: int,
    limit: int,
    deadline: float,
) -> dict[K, Any]:
    """Launch admin calls for `keys` in batches, keeping at most `limit` futures pending.

    Returns key -> result, or key -> the exception that future raised (or a TimeoutError when
    the deadline passed first). Why bounded: thousands of simultaneous futures that then time out
    together have crashed processes (librdkafka issue 4605), and per-group requests to the same
    coordinator queue up anyway.
    """
    results: dict[K, Any] = {}
    pending: dict[Future, K] = {}
    chunks: Iterable[list[K]] = (list(keys[i : i + batch]) for i in range(0, len(keys), batch))
    chunk_iter = iter(chunks)

    def fill() -> None:
        while len(pending) < limit:
            chunk = next(chunk_iter, None)
            if chunk is None:
                return
            try:
                futures = launch(chunk)
            except (KafkaException, ValueError, TypeError) as exc:
                for key in chunk:
                    results[key] = exc
                continue
            for key, fut in futures.items():
                pending[fut] = key

    fill()
    while pending:
        remaining = deadline - time.monotonic()
        done, _ = wait(list(pending), timeout=max(0.0, remaining), return_when=FIRST_COMPLETED)
        if not done:
            for fut, key in pending.items():
                fut.cancel()
                results[key] = TimeoutError("no answer before the cycle deadline")
            pending.clear()
            break
        for fut in done:
            key = pending.pop(fut)
            try:
                results[key] = fut.result()
            except Exception as exc:  # noqa: BLE001 - every future's error is recorded, whatever it is
                results[key] = exc
        fill()
    # Keys whose chunk was never launched because the deadline passed.
    for chunk in chunk_iter:
        for key in chunk:
            results[key] = TimeoutError("not started before the cycle deadline")
    return results
