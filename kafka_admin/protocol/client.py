"""Cluster-level calls over the codec: list every group, find coordinators, describe share/streams groups.

Request discipline: ListGroups once per broker; FindCoordinator once per cycle for all the groups
asked about (v4+ batches keys); each describe and offsets call once per coordinator with all of
its groups, where confluent-kafka's calls go one group a request. Connections stay open between
cycles; a connection that fails is dropped and made afresh on next use.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka_admin.config import ClusterConfig
from kafka_admin.protocol import messages
from kafka_admin.protocol.connection import Connection, UnsupportedApi, pick_version
from kafka_admin.protocol.errors import KafkaProtocolError
from kafka_admin.protocol.schema import Message

log = logging.getLogger(__name__)

KEYS_PER_REQUEST = 1000  # groups per FindCoordinator and per describe request: answers stay small


@dataclass(frozen=True, slots=True)
class BrokerListing:
    """A group as ListGroups v5 names it: the broker's own spelling of state and type."""

    group_id: str
    protocol_type: str  # "consumer", "connect", "share", "streams", "" (offsets only)
    state: str | None  # "Stable", "Assigning", ...; None before v4
    type: str | None  # "classic", "consumer", "share", "streams"; None before v5


@dataclass
class ListResult:
    groups: list[BrokerListing]
    errors: list[str]
    version: int | None  # the ListGroups version the brokers answered (the lowest, when they differ)


def split_hostport(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    return host.strip("[]"), int(port)


# DescribeShareGroupOffsets with several groups in one request stalled for about 2 s in one call of
# two or three on Kafka 4.3.1 (5 groups: 8-2,300 ms), whatever the version; one group per request
# answered in 3-11 ms every time (docs/group-types.md, "Measured").
SHARE_OFFSETS_PER_REQUEST = 1


class GroupProtocolClient:
    """Connections to a cluster's brokers for the group APIs the admin client lacks."""

    def __init__(self, config: ClusterConfig, connect: Callable[..., Connection] = Connection) -> None:
        self.config = config
        self._connect = connect
        self._lock = threading.Lock()
        self._conns: dict[int | str, Connection] = {}
        self._addresses: dict[int, tuple[str, int]] = {}
        self.sent: Counter[str] = Counter()  # by "Name@node": `requests` and a breakdown by API and broker

    @property
    def requests(self) -> int:
        """Requests sent so far; the cycle reads the difference."""
        return self.sent.total()

    def close(self) -> None:
        with self._lock:
            for conn in self._conns.values():
                conn.close()
            self._conns.clear()

    # -- connections ------------------------------------------------------------------------

    def _connection(self, node: int | str, timeout: float) -> Connection:
        conn = self._conns.get(node)
        if conn is None:
            if isinstance(node, int):
                host, port = self._addresses[node]
                conn = self._connect(self.config, host, port, timeout)
            else:
                conn = self._bootstrap(timeout)
            self._conns[node] = conn
        conn.settimeout(timeout)
        return conn

    def _bootstrap(self, timeout: float) -> Connection:
        last: Exception | None = None
        for address in self.config.bootstrap_servers.split(","):
            try:
                host, port = split_hostport(address)
                return self._connect(self.config, host, port, timeout)
            except (OSError, ValueError, KafkaProtocolError) as exc:
                last = exc
        raise ConnectionError(f"no bootstrap server answered: {last}")

    def _call(self, node: int | str, message: Message, values: dict[str, Any], timeout: float) -> dict[str, Any]:
        conn = self._connection(node, timeout)
        try:
            self.sent[f"{message.name}@{node}"] += 1
            return conn.request(message, values)[1]
        except UnsupportedApi:
            raise
        except Exception:
            conn.close()
            self._conns.pop(node, None)
            raise

    def supports(self, message: Message, timeout: float) -> str | None:
        """None when the bootstrap broker speaks `message`; else why not (for the fallback message)."""
        with self._lock:
            try:
                pick_version(message, self._connection("bootstrap", timeout).ranges)
            except UnsupportedApi as exc:
                return str(exc)
        return None

    def brokers(self, timeout: float) -> dict[int, tuple[str, int]]:
        """Node id -> (host, port), from DescribeCluster; remembered for later connections."""
        with self._lock:
            answer = self._call("bootstrap", messages.DESCRIBE_CLUSTER, {}, timeout)
            if answer["error_code"]:
                raise KafkaProtocolError(answer["error_code"], "DescribeCluster", answer["error_message"])
            self._addresses = {b["broker_id"]: (b["host"], b["port"]) for b in answer["brokers"]}
            return dict(self._addresses)

    # -- listing ----------------------------------------------------------------------------

    def list_groups(self, timeout: float, nodes: dict[int, tuple[str, int]] | None = None) -> ListResult:
        """Every group of every type, from every broker (each broker lists the groups it coordinates).

        `nodes` (id -> host, port) spares the DescribeCluster when the caller knows the brokers.
        """
        if nodes:
            with self._lock:
                self._addresses.update(nodes)
        else:
            nodes = self.brokers(timeout)
        result = ListResult([], [], None)
        with self._lock:
            for node in sorted(nodes):
                try:
                    version = pick_version(messages.LIST_GROUPS, self._connection(node, timeout).ranges)
                    answer = self._call(node, messages.LIST_GROUPS, {}, timeout)
                except (OSError, UnsupportedApi, KafkaProtocolError, ValueError) as exc:
                    result.errors.append(f"broker {node}: {exc}")
                    continue
                if answer["error_code"]:
                    result.errors.append(str(KafkaProtocolError(answer["error_code"], f"ListGroups on broker {node}")))
                    continue
                result.version = version if result.version is None else min(result.version, version)
                result.groups.extend(
                    BrokerListing(g["group_id"], g["protocol_type"], g["group_state"], g["group_type"])
                    for g in answer["groups"]
                )
        return result

    # -- per coordinator --------------------------------------------------------------------

    def coordinators(self, group_ids: Sequence[str], timeout: float) -> tuple[dict[str, int], dict[str, str]]:
        """(group -> coordinator node, group -> error) with one FindCoordinator for all of them."""
        found: dict[str, int] = {}
        failed: dict[str, str] = {}
        if not group_ids:
            return found, failed
        coordinators: list[dict[str, Any]] = []
        with self._lock:
            for start in range(0, len(group_ids), KEYS_PER_REQUEST):
                keys = list(group_ids[start : start + KEYS_PER_REQUEST])
                answer = self._call(
                    "bootstrap", messages.FIND_COORDINATOR, {"key_type": 0, "coordinator_keys": keys}, timeout
                )
                coordinators.extend(answer["coordinators"])
        for c in coordinators:
            if c["error_code"]:
                failed[c["key"]] = str(KafkaProtocolError(c["error_code"], "FindCoordinator", c["error_message"]))
            else:
                found[c["key"]] = c["node_id"]
                self._addresses.setdefault(c["node_id"], (c["host"], c["port"]))
        return found, failed

    def per_coordinator(
        self,
        message: Message,
        group_ids: Sequence[str],
        values: Callable[[list[str]], dict[str, Any]],
        timeout: float,
        coordinators: tuple[dict[str, int], dict[str, str]] | None = None,
        chunk: int | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """`message` sent to each coordinator with its groups, up to KEYS_PER_REQUEST (or `chunk`) a request;
        (the answers' groups, group -> error).

        `coordinators` (a coordinators() answer) lets several calls of one cycle share one lookup.
        """
        found, lookup_failed = coordinators if coordinators is not None else self.coordinators(group_ids, timeout)
        failed = {gid: lookup_failed[gid] for gid in group_ids if gid in lookup_failed}
        by_node: dict[int, list[str]] = {}
        for gid in group_ids:
            if gid in found:
                by_node.setdefault(found[gid], []).append(gid)
        answers: list[dict[str, Any]] = []
        with self._lock:
            for node, node_ids in sorted(by_node.items()):
                step = min(chunk or KEYS_PER_REQUEST, KEYS_PER_REQUEST)
                for at in range(0, len(node_ids), step):
                    ids = node_ids[at : at + step]
                    try:
                        answers.extend(self._call(node, message, values(ids), timeout)["groups"])
                    except (OSError, UnsupportedApi, KafkaProtocolError, ValueError) as exc:
                        failed.update(dict.fromkeys(ids, f"{message.name} on broker {node}: {exc}"))
        return answers, failed

    def describe_share_groups(
        self, ids: Sequence[str], timeout: float, coordinators: tuple[dict[str, int], dict[str, str]] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        return self.per_coordinator(
            messages.SHARE_GROUP_DESCRIBE, ids, lambda chunk: {"group_ids": chunk}, timeout, coordinators
        )

    def share_group_offsets(
        self, ids: Sequence[str], timeout: float, coordinators: tuple[dict[str, int], dict[str, str]] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        return self.per_coordinator(
            messages.DESCRIBE_SHARE_GROUP_OFFSETS,
            ids,
            lambda chunk: {"groups": [{"group_id": g, "topics": None} for g in chunk]},
            timeout,
            coordinators,
            chunk=SHARE_OFFSETS_PER_REQUEST,
        )

    def describe_streams_groups(
        self, ids: Sequence[str], timeout: float, coordinators: tuple[dict[str, int], dict[str, str]] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        return self.per_coordinator(
            messages.STREAMS_GROUP_DESCRIBE, ids, lambda chunk: {"group_ids": chunk}, timeout, coordinators
        )

    def describe_groups(
        self, ids: Sequence[str], timeout: float, coordinators: tuple[dict[str, int], dict[str, str]] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Classic DescribeGroups, for groups the admin client will not describe (Connect workers)."""
        return self.per_coordinator(
            messages.DESCRIBE_GROUPS, ids, lambda chunk: {"groups": chunk}, timeout, coordinators
        )

    def describe_consumer_groups(
        self, ids: Sequence[str], timeout: float, coordinators: tuple[dict[str, int], dict[str, str]] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """ConsumerGroupDescribe (KIP-848 groups), many groups a request to each coordinator."""
        return self.per_coordinator(
            messages.CONSUMER_GROUP_DESCRIBE, ids, lambda chunk: {"group_ids": chunk}, timeout, coordinators
        )

    def commit_offsets(self, node: int, group: str, offsets: dict[str, dict[int, int]], timeout: float) -> list[str]:
        """OffsetCommit of a memberless group at its coordinator `node`; the partitions' errors, if any.

        For seeding benchmarks and tests many groups fast; the dashboard's own writes go through
        kafka_admin/offset_write.py.
        """
        topics = [
            {"name": t, "partitions": [{"partition_index": p, "committed_offset": o} for p, o in sorted(parts.items())]}
            for t, parts in offsets.items()
        ]
        values = {"group_id": group, "generation_id_or_member_epoch": -1, "member_id": "", "topics": topics}
        with self._lock:
            answer = self._call(node, messages.OFFSET_COMMIT, values, timeout)
        return [
            f"{t['name']}/{p['partition_index']}: {KafkaProtocolError(p['error_code'], 'OffsetCommit')}"
            for t in answer["topics"]
            for p in t["partitions"]
            if p["error_code"]
        ]
