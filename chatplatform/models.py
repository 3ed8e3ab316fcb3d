from django.db import models


class LocalVector(models.Model):
    """A vector of the local vector store: one row per (index, namespace, id)."""

    index_name = models.CharField(max_length=64)
    namespace = models.CharField(max_length=64)
    vector_id = models.CharField(max_length=128)
    # float32 values, little-endian; decoded once per index into a NumPy matrix and cached.
    values = models.BinaryField()
    metadata = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["index_name", "namespace", "vector_id"], name="local_vector_unique_id"
            )
        ]
        indexes = [models.Index(fields=["index_name", "namespace"], name="local_vector_index_ns")]

    def __str__(self) -> str:
        return f"{self.index_name}/{self.namespace}/{self.vector_id}"
