"""`GET /metrics`: Prometheus text, for a bearer token from settings (METRICS_TOKEN) or staff."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest, multiprocess

from chatplatform.errors import error_body
from chatplatform.monitoring import process_hooks
from chatplatform.monitoring.collectors import PlatformCollector


def _refusal(request: HttpRequest) -> JsonResponse | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        token = settings.METRICS_TOKEN
        if token and hmac.compare_digest(credentials.strip().encode(), token.encode()):
            return None
        return JsonResponse(error_body("authentication_failed", "The credentials are not valid."), status=401)
    user = request.user
    if user.is_authenticated and user.is_staff:
        return None
    if user.is_authenticated:
        return JsonResponse(error_body("permission_denied", "You may not do this."), status=403)
    response = JsonResponse(
        error_body("not_authenticated", "Authentication credentials are missing."), status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def metrics_text() -> bytes:
    """Every process's metrics added up, and the figures read at scrape time."""
    process_hooks.dead_processes_forget()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(settings.PROMETHEUS_MULTIPROC_DIR))
    registry.register(PlatformCollector())
    return generate_latest(registry)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
