"""Websocket routes: /ws/live/<page>/?<the page's query> (see dashboard/live/registry.py)."""

from django.urls import re_path

from dashboard.live.consumers import LiveConsumer

websocket_urlpatterns = [re_path(r"^ws/live/(?P<page>[a-z-]+)/$", LiveConsumer.as_asgi())]
