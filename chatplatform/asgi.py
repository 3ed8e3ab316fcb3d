"""ASGI entry point: HTTP through Django, websockets through the Channels router."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatplatform.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from chatplatform.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

# Everything loaded so far (Django, the apps, the SDKs) lives as long as the process: move it out
# of the garbage collector's reach, so that a full collection walks only what was created since.
# Without this a full collection takes 85-165 ms here and stalls every stream (bench/README.md).
gc.freeze()
