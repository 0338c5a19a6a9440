"""The loop: collect -> store -> history -> (evaluate) -> publish. One per cluster.

The broker reads of a cycle (the snapshot, topic configs, DLQ records) run in a supervised child
process (kafka_admin.isolation) unless COLLECTOR_ISOLATED is off or the caller runs one cycle
in-process (the CLI's one-shot commands): a crash of librdkafka ends the child, never the server.
Storing, history, evaluation and publishing stay here. The calls block, so a cycle runs in a
worker thread; the loop itself is a
coroutine so that it shares the server's event loop in the embedded default (the in-memory
channel layer only works within one loop) or runs alone (`manage.py poll_kafka`). It logs one
line per change of reachability, not one per cycle, and backs off while the cluster is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from dashboard import metrics
from dashboard.alerts import engine as alerts
from dashboard.alerts.states import AlertMemory
from dashboard.audit import recent_resets
from dashboard.clusters import scrub
from dashboard.dlq import detection as dlq_detection
from dashboard.dlq import index as dlq_index
from dashboard.live.publisher import Publisher
from dashboard.state import history, store
from dashboard.state.history_writer import HistoryWriter, held, time_lags_of
from dashboard.state.lease import Lease
from kafka_admin.config import ClusterConfig
from kafka_admin.figures.tracker import ClusterFigures, FigureTracker
from kafka_admin.isolation import gc_schedule
from kafka_admin.isolation.memory import release_free_memory
from kafka_admin.isolation.remote import RemoteBroker
from kafka_admin.isolation.sessions import BrokerSession
from kafka_admin.isolation.supervisor import OperationFailed, WorkerFailed
from kafka_admin.snapshot.model import ClusterSnapshot

log = logging.getLogger(__name__)

COMPACT_EVERY_S = 60.0
CONFIGS_EVERY_S = 60.0
MIN_STEP_S = 0.5  # an optional step of a cycle (topic configs, DLQ index) is not started with less time left


class Poller:
    def __init__(self, config: ClusterConfig, interval_s: float, isolated: bool | None = None) -> None:
        self.config = config
        self.isolated = settings.COLLECTOR_ISOLATED if isolated is None else isolated
        self.interval_s = interval_s
        # Back off while the cluster is down, but never past two intervals: recovery must show
        # fresh data within two intervals of the broker coming back.
        self.max_backoff_s = 2 * interval_s
        self.tracker = FigureTracker(trend_window_s=settings.TREND_WINDOW_S)
        self.publisher = Publisher(config.name)
        self.history = HistoryWriter(heartbeat_s=settings.HISTORY_HEARTBEAT_S)
        self.alert_states = AlertMemory()  # the alert states between cycles (alerts/states.py)
        self.broker: BrokerSession | RemoteBroker | None = None
        self._restarts_saved = 0
        self._was_reachable: bool | None = None
        self._seeded = False
        self._last_compaction = 0.0
        self._last_configs = 0.0
        self.failures = 0
        self._publish_failing = False
        self._first_published = False
        self._stored = False  # a snapshot of this poller's is in the store (the first cycle is over)

    def cycle(self) -> ClusterSnapshot | None:
        """One synchronous cycle: collect, derive, store, record history. Returns the snapshot.

        None when the collector's child died or hung during the collection (the supervisor logged
        it and restarts it): the stored data stays as it was and the status bar says why.
        """
        stored = self.collect_and_store()
        if stored is None:
            return None
        return self.finish_cycle(*stored)

    def collect_and_store(self) -> tuple[ClusterSnapshot, ClusterFigures, float] | None:
        """The first half of a cycle: collect, derive, store, record history. What pages show.

        Returns (snapshot, figures, the cycle's deadline), or None when the collector's child failed.
        """
        # The whole cycle keeps the cluster's cycle timeout: the collection has its own deadline, and
        # what follows it (topic configs, DLQ index) gets what is left, or waits for the next cycle.
        deadline = time.monotonic() + self.config.cycle_timeout_s
        close_old_connections()
        if not self._seeded:
            self._seed()
        broker = self._broker()
        first = not self._stored
        if first:
            store.save_first_cycle(self.config.name, "reading the cluster: metadata, groups, committed offsets")
        try:
            snapshot = broker.collect()
        except WorkerFailed:
            self._note_collector()
            return None
        self.tracker.note_resets(recent_resets(self.config.name))  # the dashboard's own resets are no REWIND
        if first:
            step = f"working out lag and status of {len(snapshot.groups):,} groups, {len(snapshot.topics):,} topics"
            store.save_first_cycle(self.config.name, step)
        figures = self.tracker.update(snapshot)
        store.save(snapshot, figures)
        if first:
            self._stored = True
            store.save_first_cycle(self.config.name, None)
        metrics.prerender(store.state(self.config.name))  # /metrics serves this cycle's text without work
        if snapshot.reachable:
            self._record_history(snapshot, figures)
        self._note_reachability(snapshot)
        return snapshot, figures, deadline

    def finish_cycle(self, snapshot: ClusterSnapshot, figures: ClusterFigures, deadline: float) -> ClusterSnapshot:
        """The second half: compaction, topic configs, the DLQ index, alerts (they may take seconds)."""
        if snapshot.reachable:
            self._maybe_compact()
            self._maybe_read_configs(snapshot, deadline)
            self._index_dlqs(snapshot, deadline)
        self._alerts(snapshot, figures)
        self._note_collector()
        return snapshot

    def _record_history(self, snapshot: ClusterSnapshot, figures: ClusterFigures) -> None:
        try:
            self.history.record(snapshot, time_lags_of(figures))
        except Exception:
            self.history.forget()  # the rows may not be there: write every group again next cycle
            raise

    def _broker(self) -> BrokerSession | RemoteBroker:
        if self.broker is None:
            self.broker = RemoteBroker(self.config) if self.isolated else BrokerSession(self.config)
        return self.broker

    def _note_collector(self) -> None:
        """Store the child's restarts when they changed (the status bar and /metrics read them)."""
        if not isinstance(self.broker, RemoteBroker):
            return
        health = self.broker.health
        if health.total != self._restarts_saved:
            store.save_collector_health(self.config.name, health)
            self._restarts_saved = health.total

    def close(self) -> None:
        """Stop the broker session: the child process, or in-process the offsets-topic reader thread."""
        if self.broker is not None:
            self.broker.close()
            self.broker = None

    def _alerts(self, snapshot: ClusterSnapshot, figures: ClusterFigures) -> None:
        try:
            alerts.evaluate(
                self.config.name,
                snapshot if snapshot.reachable else None,
                figures,
                snapshot.reachable,
                memory=self.alert_states,
            )
            alerts.deliver()
        except Exception:
            log.exception("evaluating the alerts of %s failed", self.config.name)

    def _seed(self) -> None:
        """Refill the in-memory windows from stored history, so a restart keeps trends and time lag."""
        self._seeded = True
        since = timezone.now() - timedelta(seconds=max(settings.TREND_WINDOW_S, 600))
        for topic, t, ends in history.recent_topic_offsets(self.config.name, since):
            self.tracker.seed_topic(topic, t, {int(p): e for p, e in ends.items()})
        now = time.time()
        for group_id, points in history.recent_group_samples(self.config.name, since).items():
            for t, lag, _ in points:
                self.tracker.seed_group_lag(group_id, t, lag)
            # Rows are written on change (history_writer.py): the status windows want every cycle.
            cycles = held(
                [(t, partitions) for t, _, partitions in points],
                interval_s=self.interval_s,
                heartbeat_s=self.history.heartbeat_s,
                until=now,
                keep=self.tracker.status_samples,
            )
            for t, partitions in cycles:
                self.tracker.seed_group_offsets(group_id, t, partitions)

    def _maybe_compact(self) -> None:
        if time.monotonic() - self._last_compaction < COMPACT_EVERY_S:
            return
        self._last_compaction = time.monotonic()
        result = history.compact(timezone.now())
        if result.deleted:
            log.debug("history compaction: %d promoted, %d deleted", result.promoted, result.deleted)

    def _index_dlqs(self, snapshot: ClusterSnapshot, deadline: float) -> None:
        try:
            read = self._broker().read_records
            dlq_index.index_new_records(self.config, snapshot, deadline=deadline, read=read)
            dlq_index.reread_unrecorded(self.config, snapshot, deadline=deadline, read=read)
            # Last: a topic found to be a DLQ is indexed from the next cycle on.
            dlq_detection.sample(self.config, snapshot, deadline=deadline, read=read)
        except WorkerFailed:
            pass  # logged by the supervisor; the index catches up next cycle
        except Exception:
            log.exception("indexing the dead letter queues of %s failed", self.config.name)

    def _maybe_read_configs(self, snapshot: ClusterSnapshot, deadline: float) -> None:
        if time.monotonic() - self._last_configs < CONFIGS_EVERY_S:
            return
        # describe_topic_configs may wait its timeout plus one second; without that much left, next cycle.
        budget = min(self.config.request_timeout_s, deadline - time.monotonic() - 1.0)
        if budget < MIN_STEP_S:
            return
        self._last_configs = time.monotonic()
        topics = [t.name for t in snapshot.topics if not t.internal]
        try:
            configs, errors = self._broker().topic_configs(topics, budget)
        except (WorkerFailed, OperationFailed) as exc:
            log.debug("topic configs of %s not read: %s", self.config.name, exc)
            return
        store.save_topic_configs(self.config.name, configs)
        if errors:
            log.debug("topic configs not read for %d topics: %s", len(errors), errors[0])

    def _note_reachability(self, snapshot: ClusterSnapshot) -> None:
        if snapshot.reachable:
            self.failures = 0
            if self._was_reachable is False:
                log.warning("cluster %s reachable again", self.config.name)
            elif self._was_reachable is None:
                log.info(
                    "cluster %s: first snapshot, %d topics, %d groups in %.0f ms",
                    self.config.name,
                    len(snapshot.topics),
                    len(snapshot.groups),
                    snapshot.duration_ms,
                )
        else:
            self.failures += 1
            if self._was_reachable is not False:
                reason = snapshot.errors[0].message if snapshot.errors else "unknown"
                log.warning("cluster %s unreachable: %s", self.config.name, scrub(self.config.name, reason))
        self._was_reachable = snapshot.reachable

    def next_delay(self) -> float:
        """The interval while healthy; doubling back-off (capped) while the cluster is unreachable."""
        if self.failures == 0:
            return self.interval_s
        return min(self.max_backoff_s, self.interval_s * 2 ** min(self.failures - 1, 6))

    async def publish(self) -> int:
        """Send every changed live fragment to its channel-layer group; returns how many were sent."""
        changed = await sync_to_async(self.publisher.changed, thread_sensitive=False)()
        layer = get_channel_layer()
        if layer is None:
            return 0
        try:
            for group, html in changed:
                await layer.group_send(group, {"type": "live.fragment", "html": html})
        except Exception as exc:  # noqa: BLE001 - channel layer (Redis) down: pages still serve, polling goes on
            if not self._publish_failing:
                log.warning("cluster %s: live updates not sent, the channel layer failed: %s", self.config.name, exc)
                self._publish_failing = True
            self.publisher.forget()  # send every fragment again once the layer is back
            return 0
        if self._publish_failing:
            log.warning("cluster %s: live updates sent again", self.config.name)
            self._publish_failing = False
        return len(changed)

    async def run_cycle(self) -> ClusterSnapshot | None:
        stored = await sync_to_async(self.collect_and_store, thread_sensitive=False)()
        if stored is None:
            await self.publish()
            return None
        if not self._first_published:
            # Open pages get the first snapshot now, not after the DLQ index and topic configs.
            await self.publish()
            self._first_published = True
        snapshot = await sync_to_async(self.finish_cycle, thread_sensitive=False)(*stored)
        await self.publish()
        await sync_to_async(self._settle, thread_sensitive=False)(snapshot)
        return snapshot

    def _settle(self, snapshot: ClusterSnapshot) -> None:
        """The cycle's freed pages back to the system; its survivors out of the cycle detector's way."""
        release_free_memory()
        gc_schedule.settle_after_cycle(self.config.name, snapshot.group_partition_rows)

    async def run(self, stop: asyncio.Event) -> None:
        # A holder that stops renewing for three intervals plus a request timeout is taken to be dead.
        lease = Lease(self.config.name, ttl_s=max(10.0, 3 * self.interval_s + self.config.request_timeout_s))
        waiting_logged = False
        try:
            while not stop.is_set():
                if await sync_to_async(lease.acquire, thread_sensitive=False)():
                    if waiting_logged:
                        log.warning("cluster %s: took over polling (the previous poller stopped)", self.config.name)
                        waiting_logged = False
                    await self._timed_cycle(stop)
                    continue
                if not waiting_logged:
                    holder = await sync_to_async(lease.holder, thread_sensitive=False)()
                    log.warning("cluster %s is polled by %s; waiting to take over", self.config.name, holder)
                    waiting_logged = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
        finally:
            await sync_to_async(lease.release, thread_sensitive=False)()
            await sync_to_async(self.close, thread_sensitive=False)()
            gc_schedule.forget(self.config.name)

    async def _timed_cycle(self, stop: asyncio.Event) -> None:
        started = time.monotonic()
        try:
            await self.run_cycle()
        except Exception:
            log.exception("poll cycle for cluster %s failed", self.config.name)
            self.failures += 1
        delay = max(0.0, self.next_delay() - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
