"""The platform's ASGI application as the benchmark serves it with plain daphne.

The web process (chatplatform/server.py) sets the garbage collector up when it starts serving;
plain daphne does not, so this module does it, as bench/relay_asgi.py does for the relay.
"""

from chatplatform.asgi import application
from chatplatform.gc_setup import gc_set_up

__all__ = ["application"]

gc_set_up()
