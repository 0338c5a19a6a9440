"""Lag and offset history, live-fragment subscriptions and API tokens.

History is one row per group (or topic) per sample with the per-partition numbers packed as
compact JSON, so a row costs about 20 bytes per partition and row counts grow with groups, not
partitions. Rows are downsampled as they age (dashboard/state/history.py): tier 0 every cycle, tier 1
one per minute, tier 2 one per ten minutes, then deleted.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

RAW, MINUTE, TEN_MINUTES = 0, 1, 2
TIERS = ((RAW, "every cycle"), (MINUTE, "per minute"), (TEN_MINUTES, "per 10 minutes"))


class GroupSample(models.Model):
    """A group's committed and end offsets at one moment: {"topic": [[partition, committed, end], ...]}."""

    cluster = models.CharField(max_length=100)
    group_id = models.CharField(max_length=255)
    ts = models.DateTimeField()
    tier = models.PositiveSmallIntegerField(choices=TIERS, default=RAW)
    total_lag = models.BigIntegerField()
    time_lag_s = models.FloatField(null=True)
    partitions = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["cluster", "group_id", "ts"], name="groupsample_lookup"),
            models.Index(fields=["tier", "ts"], name="groupsample_age"),
        ]


class TopicSample(models.Model):
    """A topic's log-end offsets at one moment: {"partition": end_offset} (for produce rates and time lag)."""

    cluster = models.CharField(max_length=100)
    topic = models.CharField(max_length=255)
    ts = models.DateTimeField()
    tier = models.PositiveSmallIntegerField(choices=TIERS, default=RAW)
    end_offsets = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["cluster", "topic", "ts"], name="topicsample_lookup"),
            models.Index(fields=["tier", "ts"], name="topicsample_age"),
        ]


class LiveSubscription(models.Model):
    """A live fragment some open page wants; the publisher renders each one once per change.

    Kept in the database so that a poller in another process knows what to render.
    """

    key = models.CharField(max_length=64, unique=True)
    spec = models.JSONField()
    expires_at = models.DateTimeField(db_index=True)


class ApiToken(models.Model):
    """A bearer token for scripts; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}… ({self.name or 'token'})"


class PollerLease(models.Model):
    """Who polls a cluster: one poller per cluster across processes; a dead holder's lease expires."""

    cluster = models.CharField(max_length=100, unique=True)
    owner = models.CharField(max_length=200)
    expires_at = models.DateTimeField()


class AuditEntry(models.Model):
    """Every action a person (or script) takes: who, when, what, how many, the result."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=50)
    cluster = models.CharField(max_length=100)
    target = models.CharField(max_length=300)
    count = models.IntegerField(default=0)
    result = models.CharField(max_length=20)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        permissions = [("operate", "Can act: reprocess and resolve DLQ records, reset offsets, edit alert rules")]


WAITING, REPROCESSED, RESOLVED = "waiting", "reprocessed", "resolved"
DLQ_STATUSES = ((WAITING, "waiting"), (REPROCESSED, "reprocessed"), (RESOLVED, "resolved"))


class DlqRecord(models.Model):
    """The index of a dead-letter record: what the DLQ pages filter and count. The bytes stay in Kafka."""

    cluster = models.CharField(max_length=100)
    topic = models.CharField(max_length=255)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    timestamp = models.DateTimeField(null=True)
    key_preview = models.CharField(max_length=300, blank=True)
    value_preview = models.TextField(blank=True)
    value_size = models.IntegerField(default=0)
    original_topic = models.CharField(max_length=255, blank=True)
    original_partition = models.IntegerField(null=True)
    original_offset = models.BigIntegerField(null=True)
    target_topic = models.CharField(max_length=255, blank=True)
    target_source = models.CharField(max_length=20, blank=True)
    target_reason = models.CharField(max_length=300, blank=True)
    exception_class = models.CharField(max_length=300, blank=True)
    # The class that tells failures apart (Spring's cause under its listener wrapper), what triage
    # groups by; the writer's stage (Connect: VALUE_CONVERTER ...); the header conventions read
    # ("spring", "connect+project", "none"; "" for a row indexed before conventions were recorded).
    failure_class = models.CharField(max_length=300, blank=True)
    stage = models.CharField(max_length=300, blank=True)
    convention = models.CharField(max_length=100, blank=True)
    exception_message = models.TextField(blank=True)
    consumer_group = models.CharField(max_length=255, blank=True)
    retry_count = models.IntegerField(null=True)
    failed_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=20, choices=DLQ_STATUSES, default=WAITING)
    status_at = models.DateTimeField(null=True)
    status_by = models.CharField(max_length=150, blank=True)
    status_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "topic", "partition", "offset"], name="dlqrecord_unique")
        ]
        indexes = [
            models.Index(fields=["cluster", "topic", "status"], name="dlqrecord_status"),
            models.Index(fields=["cluster", "topic", "exception_class"], name="dlqrecord_exception"),
            models.Index(fields=["cluster", "topic", "failure_class"], name="dlqrecord_failure"),
            models.Index(fields=["cluster", "topic", "timestamp"], name="dlqrecord_time"),
        ]


PENDING, CONFIRMED, ABANDONED = "pending", "confirmed", "abandoned"


class ReprocessBatch(models.Model):
    """The records of one DLQ partition re-published in one Kafka transaction: each record's DLQ
    offset and where it was written, and the state they share.

    The ledger behind the exactly-once guarantee (kafka_admin.reprocess.Ledger): written pending after
    the batch is produced and before its transaction commits, confirmed after; after a crash the
    pending batches' records are checked against the target topic with a read_committed consumer.
    State, run and actor live here once per transaction, and the per-record values are packed into
    arrays in this row (dashboard/dlq/ledger_pack.py), so recording a transaction is one INSERT and
    confirming it one UPDATE, whatever its size (docs/dlq.md, Throughput). A batch whose records are
    settled differently is split, so each batch has one state.
    """

    cluster = models.CharField(max_length=100)
    dlq_topic = models.CharField(max_length=255)
    partition = models.IntegerField()
    first_offset = models.BigIntegerField()
    last_offset = models.BigIntegerField()
    """Bounds of the batch's DLQ offsets, for overlap queries."""
    count = models.IntegerField()
    """How many records the batch holds."""
    offsets = models.BinaryField(default=b"", blank=True)
    """The DLQ offsets, int64 ascending; empty when contiguous (first_offset..last_offset)."""
    target_topics = models.JSONField(default=list)
    """The distinct target topic names."""
    topic_index = models.BinaryField(default=b"", blank=True)
    """Each record's index into target_topics (uint16, int32 past 65,536 names); empty for one name."""
    target_partitions = models.BinaryField()
    """Each record's target partition, int32 (-1: unknown)."""
    target_offsets = models.BinaryField()
    """Each record's target offset, int64 (-1: unknown)."""
    run_id = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=20, default=PENDING)
    actor = models.CharField(max_length=150, blank=True)
    forced = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["cluster", "dlq_topic", "partition", "last_offset"], name="reprocess_batch_span"),
            models.Index(fields=["cluster", "dlq_topic", "state"], name="reprocess_batch_state"),
        ]


class ReprocessRun(models.Model):
    """A reprocess started from the dashboard or the CLI, with its progress for the progress bar."""

    run_id = models.CharField(max_length=64, unique=True)
    cluster = models.CharField(max_length=100)
    dlq_topic = models.CharField(max_length=255)
    actor = models.CharField(max_length=150)
    selection = models.JSONField(default=dict)
    planned = models.IntegerField(default=0)
    sent = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    state = models.CharField(max_length=20, default="running")
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)


class AlertRule(models.Model):
    """What to watch, when to fire, where to say it. Edited by operators in the dashboard and the admin."""

    KINDS = (("group", "consumer groups"), ("topic", "topics"), ("dlq", "DLQ topics"), ("cluster", "the cluster"))
    CONDITIONS = (
        ("lag_gt", "lag > N messages"),
        ("time_lag_gt", "time lag > N seconds"),
        ("status_in", "status in a set"),
        ("dlq_waiting_gt", "DLQ waiting > N"),
        ("unreachable", "cluster unreachable"),
    )
    CHANNELS = (("log", "log only"), ("webhook", "webhook (JSON)"), ("slack", "Slack-compatible webhook"))

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    cluster = models.CharField(max_length=100, blank=True, help_text="empty: every cluster")
    pattern = models.CharField(max_length=300, default="*", help_text="glob (orders-*) or /regex/")
    condition = models.CharField(max_length=20, choices=CONDITIONS)
    threshold = models.FloatField(default=0)
    statuses = models.CharField(max_length=100, blank=True, help_text="for 'status in': e.g. STOP,STALL")
    for_seconds = models.PositiveIntegerField(default=60, help_text="how long it must hold before firing")
    channel = models.CharField(max_length=10, choices=CHANNELS, default="log")
    webhook_url = models.CharField(max_length=500, blank=True, help_text="secret: never shown in full")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def kind(self) -> str:
        return {"lag_gt": "group", "time_lag_gt": "group", "status_in": "group", "dlq_waiting_gt": "dlq"}.get(
            self.condition, "cluster"
        )

    def __str__(self) -> str:
        return self.name


class AlertState(models.Model):
    """The state of one rule for one subject (a group, a DLQ topic, the cluster): survives restarts."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    cluster = models.CharField(max_length=100)
    subject = models.CharField(max_length=300)
    pending_since = models.DateTimeField(null=True)
    firing_since = models.DateTimeField(null=True)
    value = models.FloatField(null=True)
    # Bumped by every write of the engine: the poller's copy in memory (alerts/states.py) sees from
    # (count, sum of ids, sum of revisions) that another process changed a rule's states.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "cluster", "subject"], name="alertstate_unique")]
        # Every page asks what is firing (the status bar, the banner), and a rule over many groups
        # keeps a pending state per group: only the firing ones are in this index, so the lookup
        # reads those and not every pending state.
        indexes = [
            models.Index(
                fields=["cluster", "firing_since"], name="alertstate_firing", condition=Q(firing_since__isnull=False)
            )
        ]

    @classmethod
    def firing(cls, cluster: str | None = None) -> models.QuerySet[AlertState]:
        """What is firing now (of one cluster, or all), for the status bar, every page's banner and /alerts/."""
        states = cls.objects.filter(firing_since__isnull=False).select_related("rule")
        return states.filter(cluster=cluster) if cluster else states


class AlertEvent(models.Model):
    """A state change (firing, resolved) and its delivery: retried with backoff until delivered."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events")
    cluster = models.CharField(max_length=100)
    subject = models.CharField(max_length=300)
    kind = models.CharField(max_length=10)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    value = models.FloatField(null=True)
    message = models.CharField(max_length=500)
    silenced = models.BooleanField(default=False)
    delivered_at = models.DateTimeField(null=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, db_index=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]


class Silence(models.Model):
    """Mute notifications for a rule (or all) and subjects matching a pattern, until it expires."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, null=True, blank=True, related_name="silences")
    pattern = models.CharField(max_length=300, default="*")
    until = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
