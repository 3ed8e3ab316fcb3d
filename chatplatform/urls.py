from django.contrib import admin
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chatplatform import errors, health
from conversations import demo_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("conversations.urls")),
    path("api/v1/", include("tracking.urls")),
    path("chat/<slug:chatbot_id>/", demo_views.chat_demo, name="chat-demo"),
]


def handler404(request, exception):
    if request.path.startswith("/api/"):
        return errors.json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return errors.json_server_error(request)
    return defaults.server_error(request)
