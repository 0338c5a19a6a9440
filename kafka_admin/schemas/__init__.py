"""Schema-aware payloads: Confluent wire format decoded through a Confluent-compatible registry.

settings.py (RegistryConfig: URL, auth, TLS, subject naming; no client), wire.py (the framing:
magic byte, schema id, Protobuf message indexes; pure), decoder.py (SchemaDecoder: confluent-kafka's
deserializers with schemas cached by id, bounded; failures come back as a reason, never raised).
"""
