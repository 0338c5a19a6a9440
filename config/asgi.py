"""ASGI entry point: HTTP through Django, websockets through Channels with auth and origin checks
(the Origin must be the page's own: scheme, host and port, dashboard.access.security.SameOriginValidator)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from dashboard.access.security import SameOriginValidator  # noqa: E402
from dashboard.live.routing import websocket_urlpatterns  # noqa: E402
from dashboard.monitor.routing import websocket_urlpatterns as tail_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns + tail_urlpatterns))),
    }
)
