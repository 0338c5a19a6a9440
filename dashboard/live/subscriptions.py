"""Which live fragments are open somewhere: kept in the database with an expiry, so a poller in
another process (the scaled-out setup) knows what to render."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone

from dashboard.live.registry import FragmentSpec, known
from dashboard.models import LiveSubscription

SUBSCRIPTION_TTL = timedelta(seconds=120)


def subscribe(specs: Iterable[FragmentSpec]) -> None:
    """Register (or keep alive) the fragments an open page shows."""
    expires = timezone.now() + SUBSCRIPTION_TTL
    for spec in specs:
        LiveSubscription.objects.update_or_create(
            key=spec.key, defaults={"spec": spec.to_json(), "expires_at": expires}
        )


def active(cluster: str) -> list[FragmentSpec]:
    now = timezone.now()
    LiveSubscription.objects.filter(expires_at__lt=now - SUBSCRIPTION_TTL).delete()
    specs = (
        FragmentSpec.from_json(s)
        for s in LiveSubscription.objects.filter(expires_at__gte=now).values_list("spec", flat=True)
    )
    return [s for s in specs if s.cluster == cluster and known(s.name)]
