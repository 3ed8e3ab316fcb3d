"""Learners' Bearer tokens: issued for a username and password, expiring, revocable."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.tutor.factories import LEARNER_PASSWORD, LearnerFactory

pytestmark = pytest.mark.django_db


def token_for(client, username, password=LEARNER_PASSWORD):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_a_learner_gets_a_token_that_opens_the_tutor_api():
    learner = LearnerFactory()
    client = APIClient()
    response = token_for(client, learner.username)
    assert response.status_code == 201
    assert set(response.json()) == {"token", "expiry"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    assert client.get("/api/v1/tutor/sessions/").status_code == 200


def test_a_wrong_password_or_inactive_learner_gets_no_token():
    learner = LearnerFactory()
    assert token_for(APIClient(), learner.username, "wrong").json()["error"]["code"] == "invalid_credentials"
    learner.is_active = False
    learner.save()
    assert token_for(APIClient(), learner.username).status_code == 400


def test_anonymous_and_unknown_tokens_are_refused_with_401():
    client = APIClient()
    assert client.get("/api/v1/tutor/sessions/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get("/api/v1/tutor/sessions/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_revoked_token_stops_working_and_others_stay():
    learner = LearnerFactory()
    first = token_for(APIClient(), learner.username).json()["token"]
    second = token_for(APIClient(), learner.username).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first}")
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    assert client.get("/api/v1/tutor/sessions/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {second}")
    assert client.get("/api/v1/tutor/sessions/").status_code == 200
    assert client.post("/api/v1/auth/token/revoke/", {"all": True}, format="json").status_code == 204
    assert not AuthToken.objects.filter(user=learner).exists()


def test_an_expired_token_is_refused():
    learner = LearnerFactory()
    token = token_for(APIClient(), learner.username).json()["token"]
    AuthToken.objects.filter(user=learner).update(expiry=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/tutor/sessions/").status_code == 401


def test_past_the_token_limit_the_oldest_token_is_revoked(settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    learner = LearnerFactory()
    tokens = [token_for(APIClient(), learner.username).json()["token"] for _ in range(3)]
    assert AuthToken.objects.filter(user=learner).count() == 2
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    assert client.get("/api/v1/tutor/sessions/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[2]}")
    assert client.get("/api/v1/tutor/sessions/").status_code == 200
