"""One poller per cluster, also across processes: a lease row in the database.

A poller renews its lease every cycle; another poller for the same cluster waits until the lease
expires (its holder died or stopped) and then takes over. The database is the arbiter because it
is shared by every process in both the embedded and the scaled-out setup.

A lease left by a process of this host that no longer runs (killed, crashed) is taken at once:
a restarted server must not wait out its previous self's lease before its first snapshot.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.models import PollerLease


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_gone(owner: str) -> bool:
    """True when `owner` names a process of this host that has ended (its lease is a leftover)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) in (0, os.getpid()):
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: a process of another user has that pid, so it runs
        return False
    return False


class Lease:
    def __init__(self, cluster: str, ttl_s: float, owner: str | None = None) -> None:
        self.cluster = cluster
        self.ttl = timedelta(seconds=ttl_s)
        self.owner = owner or owner_id()

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live poller holds it."""
        now = timezone.now()
        with transaction.atomic():
            taken = (
                PollerLease.objects.filter(cluster=self.cluster)
                .filter(Q(expires_at__lt=now) | Q(owner=self.owner))
                .update(owner=self.owner, expires_at=now + self.ttl)
            )
            if taken:
                return True
            held = PollerLease.objects.filter(cluster=self.cluster).values_list("owner", flat=True).first()
            if held is not None and not holder_gone(held):
                return False
            if held is not None:
                taken = PollerLease.objects.filter(cluster=self.cluster, owner=held).update(
                    owner=self.owner, expires_at=now + self.ttl
                )
                return bool(taken)
        try:
            with transaction.atomic():
                PollerLease.objects.create(cluster=self.cluster, owner=self.owner, expires_at=now + self.ttl)
            return True
        except IntegrityError:
            return False

    def release(self) -> None:
        PollerLease.objects.filter(cluster=self.cluster, owner=self.owner).delete()

    def holder(self) -> str | None:
        row = PollerLease.objects.filter(cluster=self.cluster, expires_at__gte=timezone.now()).first()
        return row.owner if row else None
