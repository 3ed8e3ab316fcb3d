from django.urls import path

from analytics.rating_api import AnswerRatingApi

urlpatterns = [
    path(
        "chatbots/<slug:chatbot_id>/conversations/<str:conversation_id>/messages/<str:message_id>/rating/",
        AnswerRatingApi.as_view(),
        name="answer-rating",
    ),
]
