"""The monitoring feature: overview, brokers, topics (with the message browser), groups; pages, fragments and API."""
