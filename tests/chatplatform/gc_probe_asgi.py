"""An ASGI application that tells the garbage collector's state, for the web server to serve in
tests/chatplatform/test_gc_setup.py."""

import gc
import json
import threading

import django

django.setup()


async def application(scope, receive, send):
    body = json.dumps(
        {"frozen": gc.get_freeze_count(), "threads": [thread.name for thread in threading.enumerate()]}
    ).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})
