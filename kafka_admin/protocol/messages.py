"""The messages spoken, as Apache Kafka 4.3.1's JSON definitions declare them (fields, versions).

Source: clients/src/main/resources/common/message/<Name>{Request,Response}.json of apache/kafka
4.3.1 (the same files are inside kafka-clients-4.3.1.jar). Only the versions named in each Message
are spoken; a field is declared with the versions its definition gives, so decoding an older
version skips what that version lacks.
"""

from __future__ import annotations

from kafka_admin.protocol.schema import Field as F
from kafka_admin.protocol.schema import Message

_TAGGED = "3+"

API_VERSIONS = Message(
    "ApiVersions",
    18,
    (0, 3),
    3,
    request=(F("ClientSoftwareName", "string", "3+"), F("ClientSoftwareVersion", "string", "3+")),
    response=(
        F("ErrorCode", "int16"),
        F("ApiKeys", "[]", fields=(F("ApiKey", "int16"), F("MinVersion", "int16"), F("MaxVersion", "int16"))),
        F("ThrottleTimeMs", "int32", "1+"),
        F(
            "SupportedFeatures",
            "[]",
            _TAGGED,
            tag=0,
            fields=(F("Name", "string", "3+"), F("MinVersion", "int16", "3+"), F("MaxVersion", "int16", "3+")),
        ),
        F("FinalizedFeaturesEpoch", "int64", _TAGGED, tag=1, default=-1),
        F(
            "FinalizedFeatures",
            "[]",
            _TAGGED,
            tag=2,
            fields=(
                F("Name", "string", "3+"),
                F("MaxVersionLevel", "int16", "3+"),
                F("MinVersionLevel", "int16", "3+"),
            ),
        ),
        F("ZkMigrationReady", "bool", _TAGGED, tag=3, default=False),
    ),
    response_header_v0=True,
)

SASL_HANDSHAKE = Message(
    "SaslHandshake",
    17,
    (1, 1),
    None,
    request=(F("Mechanism", "string"),),
    response=(F("ErrorCode", "int16"), F("Mechanisms", "[]string")),
)

SASL_AUTHENTICATE = Message(
    "SaslAuthenticate",
    36,
    (0, 2),
    2,
    request=(F("AuthBytes", "bytes"),),
    response=(
        F("ErrorCode", "int16"),
        F("ErrorMessage", "string", nullable="0+"),
        F("AuthBytes", "bytes"),
        F("SessionLifetimeMs", "int64", "1+", default=0),
    ),
)

DESCRIBE_CLUSTER = Message(
    "DescribeCluster",
    60,
    (0, 1),
    0,
    request=(F("IncludeClusterAuthorizedOperations", "bool"), F("EndpointType", "int8", "1+", default=1)),
    response=(
        F("ThrottleTimeMs", "int32"),
        F("ErrorCode", "int16"),
        F("ErrorMessage", "string", nullable="0+"),
        F("EndpointType", "int8", "1+", default=1),
        F("ClusterId", "string"),
        F("ControllerId", "int32", default=-1),
        F(
            "Brokers",
            "[]",
            fields=(
                F("BrokerId", "int32"),
                F("Host", "string"),
                F("Port", "int32"),
                F("Rack", "string", nullable="0+"),
                F("IsFenced", "bool", "2+"),
            ),
        ),
        F("ClusterAuthorizedOperations", "int32", default=-(2**31)),
    ),
)

# Batched lookups (v4+: many keys a request). KeyType 0 is a group: share and streams groups are
# found by the group coordinator like every other group (KeyType 2, share, is for share-partition
# state, not for groups).
FIND_COORDINATOR = Message(
    "FindCoordinator",
    10,
    (4, 6),
    3,
    request=(F("KeyType", "int8", "1+"), F("CoordinatorKeys", "[]string", "4+")),
    response=(
        F("ThrottleTimeMs", "int32", "1+"),
        F(
            "Coordinators",
            "[]",
            "4+",
            fields=(
                F("Key", "string", "4+"),
                F("NodeId", "int32", "4+"),
                F("Host", "string", "4+"),
                F("Port", "int32", "4+"),
                F("ErrorCode", "int16", "4+"),
                F("ErrorMessage", "string", "4+", nullable="4+"),
            ),
        ),
    ),
)

LIST_GROUPS = Message(
    "ListGroups",
    16,
    (0, 5),
    3,
    request=(F("StatesFilter", "[]string", "4+"), F("TypesFilter", "[]string", "5+")),
    response=(
        F("ThrottleTimeMs", "int32", "1+"),
        F("ErrorCode", "int16"),
        F(
            "Groups",
            "[]",
            fields=(
                F("GroupId", "string"),
                F("ProtocolType", "string"),
                F("GroupState", "string", "4+"),
                F("GroupType", "string", "5+"),
            ),
        ),
    ),
)

_SHARE_TOPIC_PARTITIONS = (F("TopicId", "uuid"), F("TopicName", "string"), F("Partitions", "[]int32"))

# Version 0 was the 4.0 early-access form and is gone since 4.1: only v1 is spoken.
SHARE_GROUP_DESCRIBE = Message(
    "ShareGroupDescribe",
    77,
    (1, 1),
    0,
    request=(F("GroupIds", "[]string"), F("IncludeAuthorizedOperations", "bool")),
    response=(
        F("ThrottleTimeMs", "int32"),
        F(
            "Groups",
            "[]",
            fields=(
                F("ErrorCode", "int16"),
                F("ErrorMessage", "string", nullable="0+"),
                F("GroupId", "string"),
                F("GroupState", "string"),
                F("GroupEpoch", "int32"),
                F("AssignmentEpoch", "int32"),
                F("AssignorName", "string"),
                F(
                    "Members",
                    "[]",
                    fields=(
                        F("MemberId", "string"),
                        F("RackId", "string", nullable="0+"),
                        F("MemberEpoch", "int32"),
                        F("ClientId", "string"),
                        F("ClientHost", "string"),
                        F("SubscribedTopicNames", "[]string"),
                        F("Assignment", "{}", fields=(F("TopicPartitions", "[]", fields=_SHARE_TOPIC_PARTITIONS),)),
                    ),
                ),
                F("AuthorizedOperations", "int32", default=-(2**31)),
            ),
        ),
    ),
)

# v1 adds Lag (KIP-1226); Topics null in the request asks for every topic the group has state for.
DESCRIBE_SHARE_GROUP_OFFSETS = Message(
    "DescribeShareGroupOffsets",
    90,
    (0, 1),
    0,
    request=(
        F(
            "Groups",
            "[]",
            fields=(
                F("GroupId", "string"),
                F(
                    "Topics",
                    "[]",
                    nullable="0+",
                    fields=(F("TopicName", "string"), F("Partitions", "[]int32")),
                ),
            ),
        ),
    ),
    response=(
        F("ThrottleTimeMs", "int32"),
        F(
            "Groups",
            "[]",
            fields=(
                F("GroupId", "string"),
                F(
                    "Topics",
                    "[]",
                    fields=(
                        F("TopicName", "string"),
                        F("TopicId", "uuid"),
                        F(
                            "Partitions",
                            "[]",
                            fields=(
                                F("PartitionIndex", "int32"),
                                F("StartOffset", "int64"),
                                F("LeaderEpoch", "int32"),
                                F("Lag", "int64", "1+", default=-1),
                                F("ErrorCode", "int16"),
                                F("ErrorMessage", "string", nullable="0+"),
                            ),
                        ),
                    ),
                ),
                F("ErrorCode", "int16"),
                F("ErrorMessage", "string", nullable="0+"),
            ),
        ),
    ),
)

_KEY_VALUE = (F("Key", "string"), F("Value", "string"))
_TOPIC_INFO = (
    F("Name", "string"),
    F("Partitions", "int32"),
    F("ReplicationFactor", "int16"),
    F("TopicConfigs", "[]", fields=_KEY_VALUE),
)
_TASK_OFFSET = (F("SubtopologyId", "string"), F("Partition", "int32"), F("Offset", "int64"))
_TASK_IDS = (F("SubtopologyId", "string"), F("Partitions", "[]int32"))
_STREAMS_ASSIGNMENT = (
    F("ActiveTasks", "[]", fields=_TASK_IDS),
    F("StandbyTasks", "[]", fields=_TASK_IDS),
    F("WarmupTasks", "[]", fields=_TASK_IDS),
)

STREAMS_GROUP_DESCRIBE = Message(
    "StreamsGroupDescribe",
    89,
    (0, 0),
    0,
    request=(F("GroupIds", "[]string"), F("IncludeAuthorizedOperations", "bool")),
    response=(
        F("ThrottleTimeMs", "int32"),
        F(
            "Groups",
            "[]",
            fields=(
                F("ErrorCode", "int16"),
                F("ErrorMessage", "string", nullable="0+"),
                F("GroupId", "string"),
                F("GroupState", "string"),
                F("GroupEpoch", "int32"),
                F("AssignmentEpoch", "int32"),
                F(
                    "Topology",
                    "{}",
                    nullable="0+",
                    fields=(
                        F("Epoch", "int32"),
                        F(
                            "Subtopologies",
                            "[]",
                            nullable="0+",
                            fields=(
                                F("SubtopologyId", "string"),
                                F("SourceTopics", "[]string"),
                                F("RepartitionSinkTopics", "[]string"),
                                F("StateChangelogTopics", "[]", fields=_TOPIC_INFO),
                                F("RepartitionSourceTopics", "[]", fields=_TOPIC_INFO),
                            ),
                        ),
                    ),
                ),
                F(
                    "Members",
                    "[]",
                    fields=(
                        F("MemberId", "string"),
                        F("MemberEpoch", "int32"),
                        F("InstanceId", "string", nullable="0+"),
                        F("RackId", "string", nullable="0+"),
                        F("ClientId", "string"),
                        F("ClientHost", "string"),
                        F("TopologyEpoch", "int32"),
                        F("ProcessId", "string"),
                        F("UserEndpoint", "{}", nullable="0+", fields=(F("Host", "string"), F("Port", "uint16"))),
                        F("ClientTags", "[]", fields=_KEY_VALUE),
                        F("TaskOffsets", "[]", fields=_TASK_OFFSET),
                        F("TaskEndOffsets", "[]", fields=_TASK_OFFSET),
                        F("Assignment", "{}", fields=_STREAMS_ASSIGNMENT),
                        F("TargetAssignment", "{}", fields=_STREAMS_ASSIGNMENT),
                        F("IsClassic", "bool"),
                    ),
                ),
                F("AuthorizedOperations", "int32", default=-(2**31)),
            ),
        ),
    ),
)

# For Kafka Connect worker groups, which the admin client refuses to describe ("not a consumer
# group"): their member metadata and assignments are Connect's own (connect_protocol.py).
DESCRIBE_GROUPS = Message(
    "DescribeGroups",
    15,
    (5, 6),
    5,
    request=(F("Groups", "[]string"), F("IncludeAuthorizedOperations", "bool", "3+")),
    response=(
        F("ThrottleTimeMs", "int32", "1+"),
        F(
            "Groups",
            "[]",
            fields=(
                F("ErrorCode", "int16"),
                F("ErrorMessage", "string", "6+", nullable="6+"),
                F("GroupId", "string"),
                F("GroupState", "string"),
                F("ProtocolType", "string"),
                F("ProtocolData", "string"),
                F(
                    "Members",
                    "[]",
                    fields=(
                        F("MemberId", "string"),
                        F("GroupInstanceId", "string", "4+", nullable="4+"),
                        F("ClientId", "string"),
                        F("ClientHost", "string"),
                        F("MemberMetadata", "bytes"),
                        F("MemberAssignment", "bytes"),
                    ),
                ),
                F("AuthorizedOperations", "int32", "3+", default=-(2**31)),
            ),
        ),
    ),
)

_CONSUMER_ASSIGNMENT = (
    F("TopicPartitions", "[]", fields=(F("TopicId", "uuid"), F("TopicName", "string"), F("Partitions", "[]int32"))),
)

# KIP-848 consumer groups, many a request (the admin client sends one request per group).
CONSUMER_GROUP_DESCRIBE = Message(
    "ConsumerGroupDescribe",
    69,
    (0, 1),
    0,
    request=(F("GroupIds", "[]string"), F("IncludeAuthorizedOperations", "bool")),
    response=(
        F("ThrottleTimeMs", "int32"),
        F(
            "Groups",
            "[]",
            fields=(
                F("ErrorCode", "int16"),
                F("ErrorMessage", "string", nullable="0+"),
                F("GroupId", "string"),
                F("GroupState", "string"),
                F("GroupEpoch", "int32"),
                F("AssignmentEpoch", "int32"),
                F("AssignorName", "string"),
                F(
                    "Members",
                    "[]",
                    fields=(
                        F("MemberId", "string"),
                        F("InstanceId", "string", nullable="0+"),
                        F("RackId", "string", nullable="0+"),
                        F("MemberEpoch", "int32"),
                        F("ClientId", "string"),
                        F("ClientHost", "string"),
                        F("SubscribedTopicNames", "[]string"),
                        F("SubscribedTopicRegex", "string", nullable="0+"),
                        F("Assignment", "{}", fields=_CONSUMER_ASSIGNMENT),
                        F("TargetAssignment", "{}", fields=_CONSUMER_ASSIGNMENT),
                        F("MemberType", "int8", "1+", default=-1),
                    ),
                ),
                F("AuthorizedOperations", "int32", default=-(2**31)),
            ),
        ),
    ),
)

# For seeding benchmarks and tests: one group's offsets a request, no member (generation -1).
OFFSET_COMMIT = Message(
    "OffsetCommit",
    8,
    (8, 9),
    8,
    request=(
        F("GroupId", "string"),
        F("GenerationIdOrMemberEpoch", "int32", default=-1),
        F("MemberId", "string"),
        F("GroupInstanceId", "string", nullable="0+"),
        F(
            "Topics",
            "[]",
            fields=(
                F("Name", "string"),
                F(
                    "Partitions",
                    "[]",
                    fields=(
                        F("PartitionIndex", "int32"),
                        F("CommittedOffset", "int64"),
                        F("CommittedLeaderEpoch", "int32", default=-1),
                        F("CommittedMetadata", "string", nullable="0+"),
                    ),
                ),
            ),
        ),
    ),
    response=(
        F("ThrottleTimeMs", "int32"),
        F(
            "Topics",
            "[]",
            fields=(
                F("Name", "string"),
                F("Partitions", "[]", fields=(F("PartitionIndex", "int32"), F("ErrorCode", "int16"))),
            ),
        ),
    ),
)
