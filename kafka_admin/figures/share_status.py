"""The status of a share group's partition: share groups commit no offset, so Burrow's rules
(status.py) have nothing to judge. What a share group has is the share-partition start offset
(every record below it is acknowledged or archived) and Kafka's lag (KIP-1226: the records from
the start offset on not yet acknowledged). These rules judge those, with the same status names so
badges, filters, /metrics and alert rules treat every group alike:

1. No share-partition state (nothing delivered yet) or the window not yet full enough: NODATA.
2. Nothing waiting (lag 0): OK.
3. Records waiting and no member assigned the partition: STOP (nobody will take them).
4. Records waiting, members there, the start offset unmoved over the whole window and the lag not
   falling: STALL. Records are delivered but not acknowledged: a slow or stuck consumer, or records
   released again and again until the delivery count limit archives them.
5. The start offset moves but the lag grew across the window: WARN (acknowledging, falling behind).
6. Otherwise OK.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from kafka_admin.figures.status import WARN_MIN_GROWTH_FRACTION, WARN_MIN_GROWTH_RECORDS, LagStatus, PartitionStatus
from kafka_admin.snapshot.model import unacknowledged_records


@dataclass(frozen=True, slots=True)
class ShareSample:
    """One cycle's reading of a share partition. start/lag None: the broker had no state or no lag."""

    t: float
    start: int | None
    end: int | None
    lag: int | None


def push_share(window: deque[ShareSample], sample: ShareSample, max_len: int) -> deque[ShareSample]:
    window.append(sample)
    while len(window) > max_len:
        window.popleft()
    return window


def waiting(sample: ShareSample) -> int | None:
    """The sample's unacknowledged records (model.unacknowledged_records)."""
    return unacknowledged_records(sample.start, sample.end, sample.lag)


def evaluate_share_partition(
    window: Sequence[ShareSample], *, min_samples: int, has_owner: bool, delivery_limit: int | None = None
) -> PartitionStatus:
    if not window:
        return PartitionStatus(LagStatus.NODATA, "no samples")
    last = window[-1]
    lag = waiting(last)
    if last.start is None or lag is None:
        return PartitionStatus(LagStatus.NODATA, "no share-partition state yet: nothing delivered")
    if lag == 0:
        return PartitionStatus(LagStatus.OK, "nothing waiting")
    if not has_owner:
        return PartitionStatus(LagStatus.STOP, f"{lag} records waiting and no member is assigned the partition")
    judged = [s for s in window if s.start is not None and waiting(s) is not None]
    if len(judged) < min_samples:
        return PartitionStatus(LagStatus.NODATA, f"window filling: {len(judged)} of {min_samples} samples")
    first = judged[0]
    first_lag = waiting(first) or 0
    span = last.t - first.t
    if last.start == first.start and lag >= first_lag:
        limit = f" (delivery count limit {delivery_limit})" if delivery_limit else ""
        return PartitionStatus(
            LagStatus.STALL,
            f"start offset stuck at {last.start} for {span:.0f} s with {lag} records unacknowledged{limit}",
            steady=f"start offset stuck at {last.start} with records unacknowledged",
        )
    growth = lag - first_lag
    if growth > max(WARN_MIN_GROWTH_RECORDS, WARN_MIN_GROWTH_FRACTION * first_lag):
        return PartitionStatus(
            LagStatus.WARN,
            f"acknowledging, but the lag grew from {first_lag} to {lag} in {span:.0f} s",
            steady="acknowledging, but the lag grows",
        )
    return PartitionStatus(LagStatus.OK, f"start offset moving, {lag} records waiting")
