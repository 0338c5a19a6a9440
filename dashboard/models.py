"""Lag and offset history, live-fragment subscriptions and API tokens.

History is one row per group (or topic) per sample with the per-partition numbers packed as
compact JSON, so a row costs about 20 bytes per partition and row counts grow with groups, not
partitions. Rows are downsampled as they age (dashboard/history.py): tier 0 every cycle, tier 1
one per minute, tier 2 one per ten minutes, then deleted.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

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
