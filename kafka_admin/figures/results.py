"""What the tracker returns each cycle: immutable figures per topic and per group (tracker.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kafka_admin.figures.rates import CatchUp, Trend
from kafka_admin.figures.status import GroupStatus, PartitionStatus
from kafka_admin.figures.timelag import TimeLag

TP = tuple[str, int]


@dataclass(frozen=True, slots=True)
class TopicFigures:
    produce_rate: float | None
    partition_rates: dict[int, float | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GroupFigures:
    time_lag: TimeLag
    commit_rate: float | None
    produce_rate: float | None
    trend: Trend
    catch_up: CatchUp
    lag_history: Sequence[tuple[float, int]]  # a LagHistory (compact arrays) from the tracker
    # Mappings: a quiet group's (kafka_admin/figures/quiet.py) make each entry when it is read.
    partition_time_lags: Mapping[TP, TimeLag] = field(default_factory=dict)
    status: GroupStatus | None = None
    partition_statuses: Mapping[TP, PartitionStatus] = field(default_factory=dict)
    # A few records (or seconds of production) behind: healthy, drawn neutral (rates.in_noise_band).
    within_noise: bool = False


@dataclass(frozen=True, slots=True)
class ClusterFigures:
    at: float
    topics: dict[str, TopicFigures]
    groups: dict[str, GroupFigures]

    @property
    def produce_rate(self) -> float | None:
        """Records/s into the cluster's own topics: Kafka's (`__consumer_offsets`, ...) are bookkeeping."""
        own = [t for name, t in self.topics.items() if not name.startswith("__")]
        rates = [t.produce_rate for t in own if t.produce_rate is not None]
        return sum(rates) if rates else None

    @property
    def produce_rate_with_internal(self) -> float | None:
        rates = [t.produce_rate for t in self.topics.values() if t.produce_rate is not None]
        return sum(rates) if rates else None


EMPTY = ClusterFigures(0.0, {}, {})
