import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Learners are made in nearly every tutor test; PBKDF2's deliberate slowness is not under test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
