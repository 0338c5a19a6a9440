"""The DLQ feature: the index of DLQ records, triage, the reprocess ledger and service, and its pages and API."""
