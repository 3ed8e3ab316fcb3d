"""Times every HTTP request for /metrics, labelled by the URL pattern it resolved to."""

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from chatplatform.monitoring.metrics import HTTP_REQUEST_SECONDS

UNMATCHED = "unmatched"
# Any other method is counted as "other": a label value per made-up method would grow without end.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(request: HttpRequest) -> str:
    """The resolved pattern's name (or the pattern itself when it has none), never the raw path:
    a path holds ids and would make a label value per conversation."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or match.route or UNMATCHED


class RequestLatencyMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._observe(request, response, started)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = await self.get_response(request)
        self._observe(request, response, started)
        return response

    @staticmethod
    def _observe(request: HttpRequest, response: HttpResponse, started: float) -> None:
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUEST_SECONDS.labels(route_of(request), method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
