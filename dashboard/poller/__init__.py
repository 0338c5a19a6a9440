"""The poll loop (collect, store, history, alerts, publish) and how the server starts one per cluster."""
