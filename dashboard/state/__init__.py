"""What the poller stored: the latest snapshot and figures (the cache), the history rows, the poller lease."""
