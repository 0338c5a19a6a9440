"""The codec (kafka_admin/protocol) against bytes the real Apache Kafka 4.3.1 broker sent.

The fixtures in protocol_fixtures/ were captured by tests/protocol_capture.py from a broker started
by scripts/kafka.sh, with a share group `fixture-share` on topic `fixture-orders` (2 partitions)
whose one real share consumer had acknowledged records; what each test expects is what Kafka's own
kafka-share-groups --describe printed at that moment. A broker too old for a type is simulated by
the only thing that tells the codec about it: the broker's ApiVersions answer.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from kafka_admin.config import ClusterConfig
from kafka_admin.protocol import messages as m
from kafka_admin.protocol import sasl
from kafka_admin.protocol.client import GroupProtocolClient
from kafka_admin.protocol.connection import (
    Connection,
    UnsupportedApi,
    api_ranges,
    frame_request,
    pick_version,
    split_response,
)
from kafka_admin.protocol.schema import Field, Versions, decode, encode
from kafka_admin.protocol.wire import DecodeError, Reader, Writer

FIXTURES = Path(__file__).resolve().parent / "protocol_fixtures"
SHARE, TOPIC = "fixture-share", "fixture-orders"
MESSAGES = {msg.name: msg for msg in vars(m).values() if isinstance(msg, m.Message)}


def fixture(name: str) -> tuple[m.Message, int, bytes]:
    record = json.loads((FIXTURES / f"{name}.json").read_text())
    return MESSAGES[record["api"]], record["version"], bytes.fromhex(record["response_hex"])


def decoded(name: str) -> dict[str, Any]:
    message, version, body = fixture(name)
    return decode(message.response, body, version, message.flexible(version))


ALL_FIXTURES = sorted(p.stem for p in FIXTURES.glob("*.json"))


class TestWire:
    @pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16383, 16384, 2**31 - 1, 2**63 - 1])
    def test_unsigned_varints_round_trip(self, value):
        w = Writer()
        w.uvarint(value)
        assert Reader(bytes(w)).uvarint() == value

    def test_varint_bytes_as_the_protocol_guide_gives_them(self):
        w = Writer()
        w.uvarint(300)
        assert bytes(w) == b"\xac\x02"

    @pytest.mark.parametrize("compact", [True, False])
    @pytest.mark.parametrize("value", [None, "", "grüße", "x" * 300])
    def test_strings_round_trip(self, compact, value):
        w = Writer()
        w.string(value, compact)
        assert Reader(bytes(w)).string(compact) == value

    def test_null_and_empty_are_told_apart(self):
        for compact, null, empty in ((True, b"\x00", b"\x01"), (False, b"\xff\xff", b"\x00\x00")):
            w = Writer()
            w.string(None, compact)
            w.string("", compact)
            assert bytes(w) == null + empty

    def test_reading_past_the_end_is_a_decode_error(self):
        with pytest.raises(DecodeError):
            Reader(b"\x00\x05abc").string(False)
        with pytest.raises(DecodeError):
            Reader(b"\x80\x80").uvarint()


class TestSchema:
    def test_versions(self):
        assert 3 in Versions.parse("3+") and 2 not in Versions.parse("3+")
        assert 1 in Versions.parse("1-3") and 4 not in Versions.parse("1-3")
        assert 0 not in Versions.parse("none") and 2 in Versions.parse("2")

    def test_list_groups_requests_by_version(self):
        msg = m.LIST_GROUPS
        assert encode(msg.request, {}, 5, True) == b"\x01\x01\x00"  # two empty compact arrays, no tags
        assert encode(msg.request, {"states_filter": ["Stable"]}, 4, True) == b"\x02\x07Stable\x00"
        assert encode(msg.request, {}, 2, False) == b""

    def test_a_nullable_array_is_sent_as_null(self):
        body = encode(m.DESCRIBE_SHARE_GROUP_OFFSETS.request, {"groups": [{"group_id": "g", "topics": None}]}, 1, True)
        assert body == b"\x02\x02g\x00\x00\x00"  # 1 group, "g", topics null, the group's tags, the body's tags

    def test_a_request_header_v2(self):
        frame = frame_request(m.SHARE_GROUP_DESCRIBE, 1, 7, b"BODY")
        size, rest = int.from_bytes(frame[:4], "big"), frame[4:]
        assert size == len(rest)
        # api key 77, version 1, correlation 7, client id as a classic (int16) string, no tags
        assert rest == b"\x00\x4d\x00\x01\x00\x00\x00\x07\x00\x0fkafka-dashboard\x00BODY"

    def test_the_api_versions_response_header_has_no_tags_even_when_flexible(self):
        assert split_response(m.API_VERSIONS, 3, b"\x00\x00\x00\x07\x00rest") == (7, b"\x00rest")
        assert split_response(m.LIST_GROUPS, 5, b"\x00\x00\x00\x07\x00rest") == (7, b"rest")

    def test_undeclared_types_are_refused(self):
        with pytest.raises(ValueError, match="unknown type"):
            Field("X", "float32")


class TestRealBrokerBytes:
    def test_api_versions_v3_names_the_apis_and_finalized_features(self):
        answer = decoded("api_versions_v3")
        ranges = api_ranges(answer)
        assert answer["error_code"] == 0
        assert ranges[77] == (1, 1)  # ShareGroupDescribe: v0 (4.0 early access) is gone
        assert ranges[90] == (0, 1) and ranges[89] == (0, 0) and ranges[16] == (0, 5)
        features = {f["name"]: f["max_version_level"] for f in answer["finalized_features"]}
        assert features["share.version"] == 1 and features["streams.version"] == 1

    def test_api_versions_v0(self):
        assert api_ranges(decoded("api_versions_v0")) == api_ranges(decoded("api_versions_v3"))

    def test_describe_cluster(self):
        answer = decoded("describe_cluster_v1")
        assert answer["error_code"] == 0 and len(answer["brokers"]) == 1
        assert answer["brokers"][0]["broker_id"] == answer["controller_id"] == 1

    def test_list_groups_v5_names_types_and_states(self):
        groups = {g["group_id"]: g for g in decoded("list_groups_v5")["groups"]}
        assert groups[SHARE] == {
            "group_id": SHARE,
            "protocol_type": "share",
            "group_state": "Stable",
            "group_type": "share",
        }

    def test_list_groups_v3_has_neither(self):
        groups = {g["group_id"]: g for g in decoded("list_groups_v3")["groups"]}
        assert groups[SHARE]["group_state"] is None and groups[SHARE]["group_type"] is None

    def test_find_coordinator_v6(self):
        (c,) = decoded("find_coordinator_v6")["coordinators"]
        assert (c["key"], c["node_id"], c["error_code"]) == (SHARE, 1, 0)

    def test_share_group_describe_v1(self):
        group, missing = decoded("share_group_describe_v1")["groups"]
        assert (group["group_state"], group["assignor_name"], group["error_code"]) == ("Stable", "simple", 0)
        (member,) = group["members"]
        assert member["client_id"] == "share-worker-fixture-share" and member["client_host"] == "/127.0.0.1"
        assert member["subscribed_topic_names"] == [TOPIC]
        (tp,) = member["assignment"]["topic_partitions"]
        assert tp["topic_name"] == TOPIC and tp["partitions"] == [0, 1] and isinstance(tp["topic_id"], uuid.UUID)
        assert (missing["group_id"], missing["error_code"]) == ("no-such-group", 69)  # GROUP_ID_NOT_FOUND

    def test_share_group_offsets_v1_have_the_lag_of_kip_1226(self):
        (group,) = decoded("describe_share_group_offsets_v1")["groups"]
        (topic,) = group["topics"]
        by_partition = {p["partition_index"]: (p["start_offset"], p["lag"]) for p in topic["partitions"]}
        # kafka-share-groups --describe --offsets said: partition 0 "-" "-", partition 1 0 0
        assert by_partition == {0: (-1, -1), 1: (0, 0)}

    def test_share_group_offsets_v0_has_no_lag(self):
        (group,) = decoded("describe_share_group_offsets_v0")["groups"]
        assert {p["lag"] for p in group["topics"][0]["partitions"]} == {-1}  # the declared default

    def test_streams_group_describe_of_a_share_group_is_an_error_not_a_crash(self):
        (group,) = decoded("streams_group_describe_not_streams_v0")["groups"]
        assert (
            group["error_code"] == 69 and group["topology"] is None and "not a streams group" in group["error_message"]
        )

    @pytest.mark.parametrize("name", ALL_FIXTURES)
    def test_every_truncation_is_a_decode_error(self, name):
        message, version, body = fixture(name)
        for cut in range(len(body)):
            with pytest.raises(DecodeError):
                decode(message.response, body[:cut], version, message.flexible(version))

    @pytest.mark.parametrize("name", ALL_FIXTURES)
    def test_trailing_bytes_are_a_decode_error(self, name):
        message, version, body = fixture(name)
        with pytest.raises(DecodeError, match="left after"):
            decode(message.response, body + b"\x00", version, message.flexible(version))


class ReplayConnection(Connection):
    """A Connection whose broker is a recording: its ApiVersions answer (real, or edited to play an
    older broker) and one recorded response body per API."""

    def __init__(self, ranges: dict[int, tuple[int, int]], bodies: dict[int, str]) -> None:
        self.host, self.port, self.ranges, self.bodies = "replay", 0, ranges, bodies
        self.sent: list[tuple[str, int]] = []

    def settimeout(self, timeout: float) -> None:
        pass

    def close(self) -> None:
        pass

    def roundtrip(self, message: m.Message, version: int, values: dict[str, Any]) -> bytes:
        self.sent.append((message.name, version))
        name = self.bodies[message.api_key]
        recorded, recorded_version, body = fixture(name)
        assert (recorded, recorded_version) == (message, version), "the replay holds another version"
        return body


REAL_RANGES = api_ranges(decoded("api_versions_v3"))
BODIES = {16: "list_groups_v5", 60: "describe_cluster_v1", 10: "find_coordinator_v6", 77: "share_group_describe_v1"}


def client_for(ranges: dict[int, tuple[int, int]], bodies: dict[int, str] = BODIES) -> GroupProtocolClient:
    conn = ReplayConnection(ranges, bodies)
    return GroupProtocolClient(ClusterConfig(bootstrap_servers="replay:9092"), connect=lambda *a: conn)


class TestOlderBrokers:
    def test_the_highest_version_both_speak(self):
        assert pick_version(m.LIST_GROUPS, REAL_RANGES) == 5
        assert pick_version(m.LIST_GROUPS, {16: (0, 4)}) == 4

    def test_a_broker_without_share_groups(self):
        kafka_3_9 = {k: v for k, v in REAL_RANGES.items() if k not in (77, 89, 90)}
        with pytest.raises(UnsupportedApi, match=r"does not support ShareGroupDescribe v1-1 \(it speaks not at all\)"):
            pick_version(m.SHARE_GROUP_DESCRIBE, kafka_3_9)
        assert "ShareGroupDescribe" in (client_for(kafka_3_9).supports(m.SHARE_GROUP_DESCRIBE, 1.0) or "")

    def test_kafka_4_0_early_access_share_groups(self):
        with pytest.raises(UnsupportedApi, match="speaks versions 0-0"):
            pick_version(m.SHARE_GROUP_DESCRIBE, {**REAL_RANGES, 77: (0, 0)})

    def test_listing_on_a_broker_before_list_groups_v5_says_so(self):
        client = client_for({**REAL_RANGES, 16: (0, 3)}, {**BODIES, 16: "list_groups_v3"})
        result = client.list_groups(1.0)
        assert result.version == 3 and result.errors == []
        share = next(g for g in result.groups if g.group_id == SHARE)
        assert (share.type, share.state, share.protocol_type) == (None, None, "share")

    def test_the_real_broker_lists_and_describes(self):
        client = client_for(REAL_RANGES)
        result = client.list_groups(1.0)
        assert result.version == 5 and any(g.type == "share" for g in result.groups)
        described, failed = client.describe_share_groups([SHARE], 1.0)
        assert failed == {} and described[0]["group_id"] == SHARE
        assert client.requests == 4  # DescribeCluster, ListGroups, FindCoordinator, ShareGroupDescribe

    def test_share_group_offsets_go_one_group_a_request(self):
        """Several groups in one DescribeShareGroupOffsets stalled about 2 s on 4.3.1; one a request did not."""
        conn = ReplayConnection(REAL_RANGES, {**BODIES, 90: "describe_share_group_offsets_v1"})
        client = GroupProtocolClient(ClusterConfig(bootstrap_servers="replay:9092"), connect=lambda *a: conn)
        client.list_groups(1.0)  # learns the brokers' addresses
        answers, failed = client.share_group_offsets(
            [SHARE, "other", "third"], 1.0, ({SHARE: 1, "other": 1, "third": 1}, {})
        )
        assert failed == {} and len(answers) == 3
        assert [name for name, _ in conn.sent if name == "DescribeShareGroupOffsets"] == [
            "DescribeShareGroupOffsets"
        ] * 3
        client.describe_share_groups([SHARE, "other"], 1.0, ({SHARE: 1, "other": 1}, {}))
        assert [name for name, _ in conn.sent].count("ShareGroupDescribe") == 1  # still one for all


class TestSasl:
    def test_plain(self):
        assert next(sasl.plain("dash", "pw")) == b"\0dash\0pw"

    def test_scram_sha_256_as_rfc_7677_gives_it(self):
        steps = sasl.scram("user", "pencil", "sha256", nonce="rOprNGfwEbeRWgbNEkqO")
        assert next(steps) == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        assert steps.send(server_first) == (
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        )
        with pytest.raises(StopIteration):
            steps.send(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")

    def test_a_server_that_does_not_know_the_password_is_refused(self):
        steps = sasl.scram("user", "pencil", "sha256", nonce="rOprNGfwEbeRWgbNEkqO")
        next(steps)
        steps.send(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        with pytest.raises(sasl.SaslError, match="does not match"):
            steps.send(b"v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")

    def test_a_server_nonce_that_does_not_extend_ours_is_refused(self):
        steps = sasl.scram("user", "pencil", "sha256", nonce="abc")
        next(steps)
        with pytest.raises(sasl.SaslError, match="not valid"):
            steps.send(b"r=zzz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")


class TestStreamsBytes:
    """StreamsGroupDescribe v0 of a running Kafka Streams app (group st-app, topic st-in, 2 partitions):
    kafka-streams-groups --describe --members printed `ACTIVE: 0:[0,1];` for its one member."""

    def test_topology_and_tasks(self):
        (group,) = decoded("streams_group_describe_v0")["groups"]
        assert (group["group_id"], group["group_state"], group["error_code"]) == ("st-app", "Stable", 0)
        (sub,) = group["topology"]["subtopologies"]
        assert (sub["subtopology_id"], sub["source_topics"]) == ("0", ["st-in"])
        (member,) = group["members"]
        assert member["assignment"]["active_tasks"] == [{"subtopology_id": "0", "partitions": [0, 1]}]
        assert member["process_id"] == "dca5a320-632f-40e7-8260-693793dd35af" and member["user_endpoint"] is None
