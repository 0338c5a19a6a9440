"""Spring's retry-topic chains (``@RetryableTopic``): an original topic, its retry topics, its DLT.

Pure: built from topic names. Spring names the stages of a chain after the original topic: the
retry topics ``<topic>-retry`` (one topic for a fixed back-off), ``<topic>-retry-<n>`` (by attempt
index or by delay in ms, in the order of attempts either way), and the dead-letter topic
``<topic>-dlt``. A chain is the original topic with at least one retry topic, both present.

A chain is also what a reprocess must not run in circles through: a record of any stage goes back
to the chain's original topic, never into one of its retry topics or its DLT (``loop_reason``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

RETRY = re.compile(r"^(?P<origin>.+)-retry(?:-(?P<n>\d{1,18}))?$")
DLT_SUFFIX = "-dlt"


@dataclass(frozen=True)
class RetryChain:
    """One chain's topics in the order a failing record passes them."""

    origin: str
    retries: tuple[str, ...]
    dlt: str | None

    @property
    def stages(self) -> tuple[str, ...]:
        return (self.origin, *self.retries, *((self.dlt,) if self.dlt else ()))

    def role(self, topic: str) -> str | None:
        """ "original", "retry N" (1-based), "DLT", or None when `topic` is not in this chain."""
        if topic == self.origin:
            return "original"
        if topic in self.retries:
            return f"retry {self.retries.index(topic) + 1}"
        return "DLT" if topic == self.dlt else None

    def describe(self) -> str:
        return " → ".join(self.stages)


@dataclass(frozen=True)
class RetryChains:
    """Every chain of a cluster's topics, looked up by any of their topics (picklable: a reprocess
    child gets it with the routing settings)."""

    chains: tuple[RetryChain, ...] = ()

    def of(self, topic: str) -> RetryChain | None:
        return next((c for c in self.chains if c.role(topic) is not None), None)

    def loop_reason(self, dlq_topic: str, target: str) -> str | None:
        """Why re-publishing a record of `dlq_topic` to `target` would loop; None when it would not.

        Refused: a later or earlier stage of the same chain than its original topic (the record would
        run through the retries into the DLT again), and any chain's DLT or another chain's retry
        topic (the record would land among dead letters, or be retried by an application it never
        failed in)."""
        own = self.of(dlq_topic)
        if own is not None and target != own.origin and own.role(target) is not None:
            return (
                f"{target} is the {own.role(target)} stage of the retry chain {own.describe()}; re-publishing "
                f"there would run the record through the chain again. Its original topic is {own.origin}"
            )
        other = self.of(target)
        if other is not None and other is not own and target != other.origin:
            return (
                f"{target} is the {other.role(target)} stage of the retry chain {other.describe()}, not an "
                "original topic; re-publishing there would not reprocess the record"
            )
        return None


def retry_chains(topics: Iterable[str]) -> RetryChains:
    """The chains among `topics` (see the module docstring), by original topic name."""
    names = set(topics)
    retries: dict[str, list[tuple[int, str]]] = {}
    for name in names:
        match = RETRY.match(name)
        if match and match["origin"] in names:
            order = -1 if match["n"] is None else int(match["n"])
            retries.setdefault(match["origin"], []).append((order, name))
    chains = []
    for origin in sorted(retries):
        ordered = tuple(name for _, name in sorted(retries[origin]))
        dlt = origin + DLT_SUFFIX
        chains.append(RetryChain(origin, ordered, dlt if dlt in names else None))
    return RetryChains(tuple(chains))
