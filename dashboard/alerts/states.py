"""Alert states held in the poller's memory between cycles, written through, checked against the rows.

Why: at 50,000 groups a rule has up to 50,000 states, and reading them from the database in every
cycle was most of the alerts step. The poller keeps one AlertMemory per cluster: a rule's states
are loaded once, and every change is written in the cycle's transaction and applied to the copy
only once written, so copy and rows stay equal. Two checks per cycle catch what else changed them:

* The rule (edited, disabled or deleted in the web UI or the admin, possibly in another process):
  the enabled rules are read every cycle anyway, and each one's field values are compared with
  those its states were loaded under. A difference drops the copy; the states are loaded again.
* The rows (another process evaluated this cluster, e.g. a poller that held the lease meanwhile):
  one grouped query gives per rule (count, sum of ids, sum of revisions). The engine bumps a
  state's revision on every update, and ids are never reused (a new one exceeds every old one), so
  any create, delete or update since our last write changes one of the three; then the rule's
  states are loaded again.

The copy also keeps what lets evaluation skip a subject whose inputs stand still (engine.py):
which group ids a rule's pattern matches, and the Group object a lag reading was made from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Sum

from dashboard.models import AlertRule, AlertState

Fingerprint = tuple[int, int, int]  # (count, sum of ids, sum of revisions) of one rule's states


def signature(rule: AlertRule) -> tuple:
    """Every stored field of the rule: a state loaded under other values is not trusted."""
    return tuple(f.value_from_object(rule) for f in rule._meta.concrete_fields)


@dataclass
class RuleStates:
    """One rule's states for one cluster, by subject, as the database holds them."""

    signature: tuple
    states: dict[str, AlertState]
    id_sum: int = 0
    revision_sum: int = 0
    # Group id -> False: the rule's pattern does not match it; True: it does; a Group: it does, and
    # the rule's reading was made from that object (engine.py skips it while it comes again).
    known: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id_sum = sum(s.pk for s in self.states.values())
        self.revision_sum = sum(s.revision for s in self.states.values())

    @property
    def fingerprint(self) -> Fingerprint:
        return len(self.states), self.id_sum, self.revision_sum

    def prune(self, present: int) -> None:
        """Forget the skip bookkeeping of groups long gone (it is rebuilt as groups are read)."""
        if len(self.known) > 2 * present + 1024:
            self.known.clear()


@dataclass
class Changes:
    """One rule's state changes of one cycle, written in batches: a rule over 50,000 groups must not
    cost 50,000 statements a cycle, and a breach whose value stayed the same costs none."""

    held: RuleStates
    created: list[AlertState] = field(default_factory=list)
    updated: list[AlertState] = field(default_factory=list)
    deleted: list[AlertState] = field(default_factory=list)

    def create(self, state: AlertState) -> None:
        self.created.append(state)

    def update(self, state: AlertState) -> None:
        state.revision += 1
        self.updated.append(state)

    def delete(self, state: AlertState) -> None:
        self.deleted.append(state)

    def write(self) -> None:
        """Write the changes, then apply them to the copy (the caller drops the copy if this fails)."""
        ids = [s.pk for s in self.deleted]
        for i in range(0, len(ids), 900):
            AlertState.objects.filter(pk__in=ids[i : i + 900]).delete()
        AlertState.objects.bulk_create(self.created, batch_size=500)
        _update(self.updated)
        held = self.held
        for s in self.deleted:
            del held.states[s.subject]
            held.known.pop(s.subject, None)  # back under the same object, it is read again
            held.id_sum -= s.pk
            held.revision_sum -= s.revision
        for s in self.created:
            held.states[s.subject] = s
            held.id_sum += s.pk
        held.revision_sum += len(self.updated)


class AlertMemory:
    """The states of one cluster's rules between cycles (owned by that cluster's poller)."""

    def __init__(self) -> None:
        self._rules: dict[tuple[int, str], RuleStates] = {}

    def check(self, cluster: str, rules: list[AlertRule]) -> None:
        """At the start of a cycle: drop the copies of rules gone or edited, or whose rows changed."""
        wanted = {(r.pk, cluster): r for r in rules}
        for key in [k for k in self._rules if k[1] == cluster and k not in wanted]:
            del self._rules[key]
        held = {key: self._rules[key] for key in wanted if key in self._rules}
        if not held:
            return
        stored = fingerprints(cluster, [pk for pk, _ in held])
        for key, copy in held.items():
            if copy.signature != signature(wanted[key]) or copy.fingerprint != stored.get(key[0], (0, 0, 0)):
                del self._rules[key]

    def states(self, rule: AlertRule, cluster: str) -> RuleStates:
        """The rule's states, loaded from the database when not held."""
        key = (rule.pk, cluster)
        copy = self._rules.get(key)
        if copy is None:
            loaded = {s.subject: s for s in AlertState.objects.filter(rule=rule, cluster=cluster)}
            copy = self._rules[key] = RuleStates(signature(rule), loaded)
        return copy

    def forget(self, rule: AlertRule, cluster: str) -> None:
        """Drop a copy that may no longer equal the rows (a write failed half-way)."""
        self._rules.pop((rule.pk, cluster), None)


def fingerprints(cluster: str, rule_ids: list[int]) -> dict[int, Fingerprint]:
    """(count, sum of ids, sum of revisions) of each rule's states for the cluster, in one query."""
    rows = (
        AlertState.objects.filter(cluster=cluster, rule_id__in=rule_ids)
        .values("rule_id")
        .annotate(n=Count("id"), ids=Sum("id"), revisions=Sum("revision"))
        .order_by()
    )
    return {r["rule_id"]: (r["n"], int(r["ids"]), int(r["revisions"])) for r in rows}


def _update(states: list[AlertState]) -> None:
    """The changed columns of each state, one statement run for all (what bulk_update writes, whose
    CASE expressions cost far more to build than to run when thousands of values moved)."""
    if not states:
        return
    fields = [AlertState._meta.get_field(name) for name in ("value", "firing_since", "revision")]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    sql = f"UPDATE {qn(AlertState._meta.db_table)} SET {assignments} WHERE {qn(AlertState._meta.pk.column)} = %s"
    firing = fields[1]
    # The value (a float or None) and the revision go to the driver as they are; a time as the
    # backend writes it.
    rows = [
        (
            s.value,
            None if s.firing_since is None else firing.get_db_prep_save(s.firing_since, connection),
            s.revision,
            s.pk,
        )
        for s in states
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
