"""Alerts: rules evaluated after every poll cycle, a state per rule and subject, notifications.

- Evaluation reads only what the poller just stored (snapshot, figures, DLQ index): no broker call.
- A condition must hold for `for_seconds` before the alert fires (pending -> firing); it resolves
  when the condition stops holding. Only those two state changes produce events: no storm.
- Events of one rule are delivered together (one message per rule per cycle), retried with
  exponential backoff while the webhook is down, and always logged. Silenced subjects still change
  state (the alerts page shows them) but send nothing.
- Webhook URLs often carry tokens: they are never logged, shown in full, or put in events. Where a
  webhook may connect is dashboard/alerts/webhooks.py's business.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import re2
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.alerts import webhooks
from dashboard.models import AlertEvent, AlertRule, AlertState, DlqRecord, Silence
from kafka_admin.figures.tracker import ClusterFigures
from kafka_admin.snapshot.model import ClusterSnapshot

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
SEND_TIMEOUT_S = 3.0
MAX_DELIVERIES_PER_CYCLE = 20


RE2_OPTIONS = re2.Options()
RE2_OPTIONS.log_errors = False  # RE2 would print parse errors to stderr itself; we log them once


def _regex(pattern: str) -> str | None:
    """The expression of a /regex/ pattern, or None for a glob."""
    if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/"):
        return pattern[1:-1]
    return None


def _re2_error(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)


@functools.lru_cache(maxsize=1024)
def compiled_regex(expression: str) -> re2._Regexp | None:
    """RE2, not Python's re: patterns are typed by people and run in every poll cycle against group ids
    anyone may choose, and RE2 matches in linear time (no catastrophic backtracking). A stored pattern
    RE2 cannot compile (look-around, back-references) matches nothing and is logged once per process."""
    try:
        return re2.compile(expression, RE2_OPTIONS)
    except re2.error as exc:
        log.warning("alert pattern /%s/ cannot be compiled by RE2, it matches nothing: %s", expression, _re2_error(exc))
        return None


def matches(pattern: str, name: str) -> bool:
    """A glob (`orders-*`), or a regular expression written as /regex/ (RE2 syntax)."""
    expression = _regex(pattern)
    if expression is None:
        return fnmatch.fnmatchcase(name, pattern or "*")
    regex = compiled_regex(expression)
    return regex is not None and regex.search(name) is not None


def valid_pattern(pattern: str) -> str | None:
    """None when usable, else why not (for forms)."""
    expression = _regex(pattern)
    if expression is not None:
        try:
            re2.compile(expression, RE2_OPTIONS)
        except re2.error as exc:
            return f"not a valid regular expression (RE2 syntax: no look-around or back-references): {_re2_error(exc)}"
    return None


@dataclass(frozen=True)
class Reading:
    """One subject's value for a rule right now, and whether the condition holds."""

    subject: str
    value: float | None
    breached: bool


def readings(
    rule: AlertRule, cluster: str, snapshot: ClusterSnapshot | None, figures: ClusterFigures, reachable: bool
) -> list[Reading]:
    if rule.condition == "unreachable":
        return [Reading(cluster, 0.0 if reachable else 1.0, not reachable)]
    if snapshot is None or not reachable:
        return []  # data conditions are not judged on stale data; the 'unreachable' rule covers that
    if rule.condition == "dlq_waiting_gt":
        return _dlq_readings(rule, cluster, snapshot)
    out = []
    wanted = {s.strip().upper() for s in rule.statuses.split(",") if s.strip()}
    for group in snapshot.groups:
        if not matches(rule.pattern, group.group_id):
            continue
        gf = figures.groups.get(group.group_id)
        if rule.condition == "lag_gt":
            out.append(Reading(group.group_id, float(group.total_lag), group.total_lag > rule.threshold))
        elif rule.condition == "time_lag_gt":
            seconds = gf.time_lag.seconds if gf else None
            out.append(Reading(group.group_id, seconds, seconds is not None and seconds > rule.threshold))
        elif rule.condition == "status_in":
            status = getattr(gf, "status", None) if gf else None
            name = getattr(status, "status", status)
            out.append(Reading(group.group_id, None, name is not None and str(name).upper() in wanted))
    return out


def _dlq_readings(rule: AlertRule, cluster: str, snapshot: ClusterSnapshot) -> list[Reading]:
    from dashboard.dlq.index import dlq_topics

    out = []
    for topic in dlq_topics(snapshot):
        if not matches(rule.pattern, topic.name):
            continue
        indexed = DlqRecord.objects.filter(cluster=cluster, topic=topic.name)
        waiting = indexed.filter(status="waiting").count() + max(0, topic.records - indexed.count())
        out.append(Reading(topic.name, float(waiting), waiting > rule.threshold))
    return out


def evaluate(
    cluster: str,
    snapshot: ClusterSnapshot | None,
    figures: ClusterFigures,
    reachable: bool,
    now: datetime | None = None,
) -> list[AlertEvent]:
    """Advance every enabled rule's state for this cluster; returns the events created."""
    now = now or timezone.now()
    events: list[AlertEvent] = []
    rules = AlertRule.objects.filter(enabled=True).filter(Q(cluster="") | Q(cluster=cluster))
    for rule in rules:
        if not reachable and rule.condition != "unreachable":
            continue  # stale data neither fires nor resolves a data alert; the 'unreachable' rule speaks
        current = {r.subject: r for r in readings(rule, cluster, snapshot, figures, reachable)}
        states = {s.subject: s for s in AlertState.objects.filter(rule=rule, cluster=cluster)}
        changes = _Changes()
        with transaction.atomic():
            for subject, reading in current.items():
                event = _advance(rule, cluster, states.get(subject), reading, now, changes)
                if event is not None:
                    events.append(event)
            for subject, state in states.items():
                if subject not in current:  # the subject is gone (group deleted): resolve and forget it
                    event = _advance(rule, cluster, state, Reading(subject, None, False), now, changes)
                    if event is not None:
                        events.append(event)
            changes.write()
    return events


@dataclass
class _Changes:
    """One cycle's state changes of one rule, written in batches: a rule over 50,000 groups must not
    cost 50,000 statements a cycle, and a breach whose value stayed the same costs none."""

    created: list[AlertState] = field(default_factory=list)
    updated: list[AlertState] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)

    def write(self) -> None:
        for i in range(0, len(self.deleted), 900):
            AlertState.objects.filter(pk__in=self.deleted[i : i + 900]).delete()
        AlertState.objects.bulk_create(self.created, batch_size=500)
        AlertState.objects.bulk_update(self.updated, ["value", "firing_since"], batch_size=500)


def _advance(
    rule: AlertRule, cluster: str, state: AlertState | None, reading: Reading, now: datetime, changes: _Changes
) -> AlertEvent | None:
    if not reading.breached:
        if state is None:
            return None
        fired = state.firing_since is not None
        changes.deleted.append(state.pk)
        return _event(rule, cluster, reading.subject, "resolved", reading.value, now) if fired else None
    new = state is None
    if state is None:
        state = AlertState(rule=rule, cluster=cluster, subject=reading.subject, pending_since=now)
    changed = new or state.value != reading.value
    state.value = reading.value
    event = None
    if state.firing_since is None and (now - state.pending_since) >= timedelta(seconds=rule.for_seconds):
        state.firing_since = now
        event = _event(rule, cluster, reading.subject, "firing", reading.value, now)
        changed = True
    if new:
        changes.created.append(state)
    elif changed:
        changes.updated.append(state)
    return event


def describe(rule: AlertRule, subject: str, kind: str, value: float | None) -> str:
    what = {
        "lag_gt": f"lag {value:,.0f} > {rule.threshold:,.0f} messages" if value is not None else "lag",
        "time_lag_gt": f"time lag {value:,.0f} s > {rule.threshold:,.0f} s" if value is not None else "time lag",
        "status_in": f"status in {rule.statuses}",
        "dlq_waiting_gt": f"{value:,.0f} DLQ records waiting > {rule.threshold:,.0f}" if value is not None else "DLQ",
        "unreachable": "cluster unreachable",
    }[rule.condition]
    return f"[{kind.upper()}] {rule.name}: {subject}: {what}"[:500]


def _event(rule: AlertRule, cluster: str, subject: str, kind: str, value: float | None, now: datetime) -> AlertEvent:
    silenced = is_silenced(rule, subject, now)
    event = AlertEvent.objects.create(
        rule=rule,
        cluster=cluster,
        subject=subject,
        kind=kind,
        value=value,
        message=describe(rule, subject, kind, value),
        silenced=silenced,
        next_attempt_at=None if silenced or rule.channel == "log" else now,
        delivered_at=now if silenced or rule.channel == "log" else None,
    )
    log.warning("alert %s%s", event.message, " (silenced)" if silenced else "")
    return event


def is_silenced(rule: AlertRule, subject: str, now: datetime) -> bool:
    silences = Silence.objects.filter(until__gt=now).filter(Q(rule=rule) | Q(rule__isnull=True))
    return any(matches(s.pattern, subject) for s in silences)


# --- delivery ----------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's escaping for message text (& < >): group ids, topics and rule names are untrusted text,
    and unescaped `<!channel>` would ping a channel, `<https://x|label>` would become a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(rule: AlertRule, events: list[AlertEvent]) -> dict:
    """One message for the events of one rule: Slack's {"text"} or a generic JSON document."""
    if rule.channel == "slack":
        return {"text": "\n".join(slack_escape(e.message) for e in events)}
    return {
        "rule": rule.name,
        "condition": rule.condition,
        "threshold": rule.threshold,
        "alerts": [
            {
                "status": e.kind,
                "cluster": e.cluster,
                "subject": e.subject,
                "value": e.value,
                "message": e.message,
                "at": e.at.isoformat(),
            }
            for e in events
        ],
    }


def post_json(url: str, body: dict) -> None:
    """POST JSON to a checked address (dashboard/alerts/webhooks.py: no internal addresses, no redirects);
    raises OSError with a message that never contains the URL (it may hold a token)."""
    webhooks.post_json(url, body, timeout=SEND_TIMEOUT_S)


def deliver(now: datetime | None = None, budget_s: float = 5.0) -> int:
    """Send what is due, grouped per rule; back off after failures. Returns the events delivered.

    Bounded by `budget_s` so that a dead webhook never holds up the poll cycle for long.
    """
    now = now or timezone.now()
    started = time.monotonic()
    due = list(
        AlertEvent.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now, attempts__lt=MAX_ATTEMPTS)
        .select_related("rule")
        .order_by("at")[:500]
    )
    by_rule: dict[int, list[AlertEvent]] = defaultdict(list)
    for event in due:
        by_rule[event.rule_id].append(event)
    delivered = 0
    for events in list(by_rule.values())[:MAX_DELIVERIES_PER_CYCLE]:
        if time.monotonic() - started > budget_s:
            break
        rule = events[0].rule
        ids = [e.id for e in events]
        try:
            if not rule.webhook_url:
                raise OSError("no webhook URL configured")
            post_json(rule.webhook_url, payload(rule, events))
        except OSError as exc:
            attempts = events[0].attempts + 1
            backoff = timedelta(seconds=min(600, 5 * 2 ** (attempts - 1)))
            AlertEvent.objects.filter(id__in=ids).update(
                attempts=attempts, next_attempt_at=now + backoff, last_error=str(exc)[:300]
            )
            log.warning(
                "alert delivery for rule %s failed (attempt %d, next in %ds): %s",
                rule.name,
                attempts,
                backoff.total_seconds(),
                exc,
            )
            continue
        AlertEvent.objects.filter(id__in=ids).update(delivered_at=now, attempts=events[0].attempts + 1, last_error="")
        delivered += len(ids)
    return delivered


def masked_url(url: str) -> str:
    """Scheme, host and port of a webhook URL, enough to recognise it; never userinfo, path, query or
    fragment, since a token can sit in any of them (`user:token@`, `?token=`, right after the host)."""
    if not url:
        return ""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname or ""
        try:
            port = parts.port
        except ValueError:  # "host:SECRET": not a port, so not shown
            port = None
    except ValueError:  # unbalanced brackets and the like
        return "(set)/…"
    if parts.scheme.lower() not in ("http", "https") or not host:
        return "(set)/…"
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{shown}{f':{port}' if port is not None else ''}/…"
