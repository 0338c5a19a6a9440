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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import re2
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dashboard.alerts import webhooks
from dashboard.alerts.states import AlertMemory, Changes, RuleStates
from dashboard.models import AlertEvent, AlertRule, AlertState, DlqRecord, Silence
from kafka_admin.figures.results import ClusterFigures, GroupFigures
from kafka_admin.snapshot.model import ClusterSnapshot, Group

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
    wanted = wanted_statuses(rule)
    for group in snapshot.groups:
        if matches(rule.pattern, group.group_id):
            value, breached = group_reading(rule, wanted, group, figures.groups.get(group.group_id))
            out.append(Reading(group.group_id, value, breached))
    return out


def wanted_statuses(rule: AlertRule) -> set[str]:
    return {s.strip().upper() for s in rule.statuses.split(",") if s.strip()}


def group_reading(
    rule: AlertRule, wanted: set[str], group: Group, gf: GroupFigures | None
) -> tuple[float | None, bool]:
    """A group rule's (value, breached) for one group; `wanted`: wanted_statuses(rule)."""
    if rule.condition == "lag_gt":
        lag = group.total_lag  # a sum over the partitions, made once
        return float(lag), lag > rule.threshold
    if rule.condition == "time_lag_gt":
        seconds = gf.time_lag.seconds if gf else None
        return seconds, seconds is not None and seconds > rule.threshold
    status = getattr(gf, "status", None) if gf else None  # status_in
    name = getattr(status, "status", status)
    return None, name is not None and str(name).upper() in wanted


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
    memory: AlertMemory | None = None,
) -> list[AlertEvent]:
    """Advance every enabled rule's state for this cluster; returns the events created.

    memory: the poller's states between cycles (states.py); None reads every state from the
    database (tests, one-shot commands). Both give the same events and rows.
    """
    now = now or timezone.now()
    memory = memory if memory is not None else AlertMemory()
    events: list[AlertEvent] = []
    rules = list(AlertRule.objects.filter(enabled=True).filter(Q(cluster="") | Q(cluster=cluster)))
    memory.check(cluster, rules)
    for rule in rules:
        if not reachable and rule.condition != "unreachable":
            continue  # stale data neither fires nor resolves a data alert; the 'unreachable' rule speaks
        held = memory.states(rule, cluster)
        changes = Changes(held)
        try:
            with transaction.atomic():
                if rule.kind == "group":
                    groups = snapshot.groups if snapshot is not None else ()
                    _advance_groups(rule, cluster, groups, figures, held, now, changes, events)
                else:
                    current = set()
                    for reading in readings(rule, cluster, snapshot, figures, reachable):
                        current.add(reading.subject)
                        _note(events, _advance(rule, cluster, held.states.get(reading.subject), reading, now, changes))
                    _resolve_gone(rule, cluster, held, held.states.keys() - current, now, changes, events)
                changes.write()
        except BaseException:
            memory.forget(rule, cluster)  # the copy may be ahead of rows rolled back
            raise
    return events


def _note(events: list[AlertEvent], event: AlertEvent | None) -> None:
    if event is not None:
        events.append(event)


def _resolve_gone(
    rule: AlertRule,
    cluster: str,
    held: RuleStates,
    gone: Iterable[str],
    now: datetime,
    changes: Changes,
    events: list[AlertEvent],
) -> None:
    """A subject with a state that was not read (group deleted, no longer matched): resolve and forget it."""
    for subject in sorted(gone):
        _note(events, _advance(rule, cluster, held.states[subject], Reading(subject, None, False), now, changes))


def _advance_groups(
    rule: AlertRule,
    cluster: str,
    groups: Sequence[Group],
    figures: ClusterFigures,
    held: RuleStates,
    now: datetime,
    changes: Changes,
    events: list[AlertEvent],
) -> None:
    """readings() and _advance for a group rule, in the snapshot's order, then the subjects gone,
    doing work only where the outcome can differ from the last cycle's.

    A subject is skipped when _advance would leave it as it is: no breach and no state, or a breach
    with the state's value that is firing already or not due yet. A lag reading follows from the
    Group alone, and an unchanged group comes as last cycle's object (the collector's describe cache,
    the isolation delta), so a group read from the same object is not read again: only its state's
    due time can fire it. Time lags and statuses move with the clock for quiet groups too; the
    tracker makes them every cycle, so they are read every cycle (an attribute each)."""
    states, known, by_id = held.states, held.known, figures.groups
    pattern, wanted = rule.pattern, wanted_statuses(rule)
    duration = timedelta(seconds=rule.for_seconds)
    by_object = rule.condition == "lag_gt"
    read = 0  # subjects with a state that were read
    for group in groups:
        gid = group.group_id
        last = known.get(gid)
        if last is None:
            last = known[gid] = matches(pattern, gid)
        if last is False:
            continue
        state = states.get(gid)
        if state is not None:
            read += 1
        if by_object:
            if last is group:
                if state is not None and state.firing_since is None and (now - state.pending_since) >= duration:
                    _note(events, _advance(rule, cluster, state, Reading(gid, state.value, True), now, changes))
                continue
            known[gid] = group
        value, breached = group_reading(rule, wanted, group, by_id.get(gid))
        if _stays(state, value, breached, now, duration):
            continue
        _note(events, _advance(rule, cluster, state, Reading(gid, value, breached), now, changes))
    if read < len(states):
        present = {g.group_id for g in groups if known.get(g.group_id) is not False}
        _resolve_gone(rule, cluster, held, states.keys() - present, now, changes, events)
    held.prune(len(groups))


def _stays(state: AlertState | None, value: float | None, breached: bool, now: datetime, duration: timedelta) -> bool:
    """True when _advance would write nothing and make no event: no breach and no state, or a
    breach with the state's value that is firing already or not due yet."""
    if state is None:
        return not breached
    return (
        breached and state.value == value and (state.firing_since is not None or (now - state.pending_since) < duration)
    )


def _advance(
    rule: AlertRule, cluster: str, state: AlertState | None, reading: Reading, now: datetime, changes: Changes
) -> AlertEvent | None:
    if not reading.breached:
        if state is None:
            return None
        fired = state.firing_since is not None
        changes.delete(state)
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
        changes.create(state)
    elif changed:
        changes.update(state)
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
