"""The JSON API's frame (base) and URL conf; each feature keeps its own endpoints (monitor/api.py, dlq/api.py)."""
