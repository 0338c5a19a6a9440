"""Alert rules, silences and their delivery (webhook, Slack), evaluated by the poller after each cycle."""
