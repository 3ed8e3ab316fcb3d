"""ASGI application of the bare relay (bench/relay_consumer.py), served by daphne like the platform.

    daphne -b 127.0.0.1 -p 8102 bench.relay_asgi:application

It loads the platform's settings (so the provider is configured the same way) but none of its
HTTP stack: websockets only, one route, `/ws/relay/`.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatplatform.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)
from django.urls import path  # noqa: E402

from bench.relay_consumer import RelayConsumer  # noqa: E402
from chatplatform.gc_setup import gc_set_up  # noqa: E402

application = ProtocolTypeRouter({"websocket": URLRouter([path("ws/relay/", RelayConsumer.as_asgi())])})

# As chatplatform/server.py does when it starts serving: the same set-up for both.
gc_set_up()
