# One image for web, worker and beat; docker-compose.yml picks the process with `command`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/static

WORKDIR /app
RUN useradd --create-home --uid 1000 app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# collectstatic needs settings but no secrets of the deployment: throwaway values suffice here.
RUN DJANGO_DEBUG=False DJANGO_SECRET_KEY=build-only FIELD_ENCRYPTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var/media && chown -R app:app /app/var
USER app
EXPOSE 8000
CMD ["python", "-m", "chatplatform.server", "-b", "0.0.0.0", "-p", "8000", "chatplatform.asgi:application"]
