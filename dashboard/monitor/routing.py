"""The live tail's websocket route (config/asgi.py adds it beside dashboard.live.routing's)."""

from django.urls import re_path

from dashboard.monitor.tail_consumer import TailConsumer

websocket_urlpatterns = [
    re_path(r"^ws/tail/(?P<cluster>[^/]{1,255})/(?P<topic>[a-zA-Z0-9._-]{1,249})/$", TailConsumer.as_asgi()),
]
