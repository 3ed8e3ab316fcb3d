"""The web process: daphne with a ceiling on request bodies (`python -m chatplatform.server`).

Takes daphne's command-line arguments. daphne (through Twisted) receives a whole request body
before the application sees any of it, so without a ceiling anyone can make the process hold
and copy an arbitrarily large body. Here a body larger than `HTTP_MAX_BODY_BYTES` is refused
with 413 `request_too_large`, from its Content-Length before a byte of it is read, or, when it
comes chunked, as soon as the bytes received pass the ceiling; the connection is then closed.
"""

import json

from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from django.conf import settings

from chatplatform.gc_setup import gc_set_up


class LimitedWebRequest(WebRequest):
    """daphne's request, refusing a body over the server's `max_body_bytes`."""

    def __init__(self, *args, **kwargs) -> None:
        # Django parses the body itself. Twisted's parse of form bodies into `request.args` would
        # hold another copy of the body and answer a malformed multipart with an empty 400.
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)
        self.body_received = 0
        self.refused = False

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > self.server.max_body_bytes:
            # Twisted would send `100 Continue` right after this returns: not after a refusal.
            self.requestHeaders.removeHeader(b"Expect")
            self.refuse()
            length = 0
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.body_received += len(data)
        if self.body_received > self.server.max_body_bytes:
            self.refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self.refused:
            return
        if self.requestHeaders.hasHeader(b"Transfer-Encoding"):
            # Twisted has decoded the chunks; Django needs the length to parse the body at all
            # (without it, a chunked upload arrives as a form without its file).
            self.requestHeaders.removeHeader(b"Transfer-Encoding")
            self.requestHeaders.setRawHeaders(b"Content-Length", [b"%d" % self.content.tell()])
        super().requestReceived(command, path, version)

    def refuse(self) -> None:
        self.refused = True
        self.channel.transport.write(self.server.too_large_response)
        self.channel.loseConnection()


class LimitedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedWebRequest
        return protocol


class LimitedServer(Server):
    """daphne's server with `LimitedWebRequest` for HTTP, and websockets closed with a code when they
    break a limit."""

    def __init__(self, *args, max_body_bytes: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The application, and with it Django's settings, is loaded before the server is made.
        self.max_body_bytes = settings.HTTP_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes
        self.too_large_response = too_large_response(self.max_body_bytes)

    # Server.run() makes its HTTP factory and starts listening with it in one go, with no hook in
    # between: the assignment is where the limited factory takes the place of daphne's.
    def run(self) -> None:
        # The application is loaded: what lives as long as the process leaves the collector's
        # reach now, not when `chatplatform.asgi` is imported (tests and tools import it too).
        gc_set_up()
        super().run()

    @property
    def http_factory(self) -> HTTPFactory:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: HTTPFactory) -> None:
        self._http_factory = LimitedHTTPFactory(self)

    # The same for the websocket factory, whose options daphne sets right after: all but
    # `failByDrop`, and autobahn's default drops the TCP connection of a client over a limit (a
    # message over --websocket-max-message-size) with no close frame. Closed with 1009, the client
    # learns why.
    @property
    def ws_factory(self) -> WebSocketFactory:
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory: WebSocketFactory) -> None:
        factory.setProtocolOptions(failByDrop=False)
        self._ws_factory = factory


def too_large_response(max_body_bytes: int) -> bytes:
    from chatplatform.errors import error_body  # needs Django's settings, so only once they are set

    body = json.dumps(
        error_body("request_too_large", f"The request body may be at most {max_body_bytes} bytes.")
    ).encode()
    head = (
        "HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class LimitedCommandLineInterface(CommandLineInterface):
    description = "The chat platform's web process: daphne with HTTP_MAX_BODY_BYTES"
    server_class = LimitedServer


if __name__ == "__main__":
    LimitedCommandLineInterface.entrypoint()
