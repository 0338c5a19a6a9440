"""Live updates: the fragment and page registries, subscriptions, the publisher and the websocket consumer."""
