from django.contrib import admin
from django.urls import include, path, re_path
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chatplatform import errors, health
from chatplatform.monitoring import views as monitoring_views
from conversations import demo_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("conversations.urls")),
    path("api/v1/", include("analytics.rating_urls")),
    path("api/v1/", include("tracking.urls")),
    path("api/v1/", include("chatplatform.jobs.urls")),
    path("api/v1/", include("analytics.urls")),
    path("api/v1/", include("tutor.urls")),
    path("chat/<slug:chatbot_id>/", demo_views.chat_demo, name="chat-demo"),
    path("tutor/", include("tutor.learning.page_urls")),
    path("metrics", monitoring_views.metrics, name="metrics"),
    # Any other API path is the API's JSON 404, also with DEBUG on, where Django would show its
    # HTML debug page instead of handler404. Paths without their final slash are left out, so
    # that APPEND_SLASH still redirects them.
    re_path(r"^api/(?:.*/)?$", csrf_exempt(errors.json_not_found), name="api-not-found"),
]


def handler404(request, exception):
    if request.path.startswith("/api/"):
        return errors.json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return errors.json_server_error(request)
    return defaults.server_error(request)
