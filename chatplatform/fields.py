"""Model fields for secrets: plaintext in Python, Fernet tokens in the database."""

from django.core import exceptions
from django.db import models

from chatplatform import crypto


class EncryptedTextField(models.TextField):
    """A text field stored encrypted. An empty value is stored as an empty string.

    It cannot be searched or compared in SQL, since each encryption is randomised. Serialised
    (`dumpdata`), it is a Fernet token too, so a fixture never holds the plaintext; `to_python`
    decrypts such a token (`loaddata`), so the value is encrypted once again on save, not twice.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return crypto.decrypt(value)

    def to_python(self, value):
        if value is None:
            return ""
        if isinstance(value, str) and crypto.looks_encrypted(value):
            try:
                return crypto.decrypt(value)
            except crypto.DecryptionError:
                # Stored as it is, it would be encrypted a second time and read back as garbage.
                raise exceptions.ValidationError(
                    "This encrypted value cannot be decrypted with the configured "
                    "FIELD_ENCRYPTION_KEY (was it exported with another key?).",
                    code="undecryptable_secret",
                ) from None
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return crypto.encrypt(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return crypto.encrypt(value) if value else ""
