"""ASGI entry point: HTTP through Django, websockets through the Channels router."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatplatform.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)
from django.conf import settings  # noqa: E402

from chatplatform.proxies import ForwardedHeadersMiddleware  # noqa: E402
from chatplatform.routing import websocket_urlpatterns  # noqa: E402

application = ForwardedHeadersMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": URLRouter(websocket_urlpatterns),
        }
    ),
    trusted_proxies=settings.TRUSTED_PROXIES,
)
