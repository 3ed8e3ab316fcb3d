"""Model fields for secrets: plaintext in Python, Fernet tokens in the database."""

from django.db import models

from chatplatform import crypto


class EncryptedTextField(models.TextField):
    """A text field stored encrypted. An empty value is stored as an empty string.

    It cannot be searched or compared in SQL, since each encryption is randomised.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return crypto.decrypt(value)

    def to_python(self, value):
        return value if value is not None else ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return crypto.encrypt(value)
