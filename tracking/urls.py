from django.urls import path

from tracking.api import OrderLookupApi

urlpatterns = [
    path("chatbots/<slug:chatbot_id>/orders/lookup/", OrderLookupApi.as_view(), name="order-lookup"),
]
