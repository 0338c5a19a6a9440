"""poller."""
