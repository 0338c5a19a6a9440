"""A small Kafka protocol client for the group APIs confluent-kafka 2.16 lacks (docs/group-types.md).

wire.py: the primitive types; schema.py: fields and versions as Kafka's JSON message definitions
declare them; messages.py: the few messages spoken; connection.py (+ sasl.py): one broker
connection with the cluster's security settings; client.py: the cluster-level calls.
"""
