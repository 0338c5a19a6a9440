"""Websocket routes (the live-update consumer lands with the live dashboard)."""

websocket_urlpatterns: list = []
