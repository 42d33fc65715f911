# The one image every role runs (compose.yaml): web, scheduler, workers, the migration step.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIGIA_SETTINGS=/var/lib/vigia/settings.toml

WORKDIR /opt/vigia
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY connectors ./connectors
COPY classifiers ./classifiers
COPY reports ./reports
# The PostgreSQL driver is an extra; the queue's (Celery, kombu, redis) come with the package.
RUN pip install ".[postgres]"

RUN useradd --system --home-dir /var/lib/vigia --create-home --shell /usr/sbin/nologin vigia
USER vigia
# Relative paths in settings.toml (var/outbox, var/reports) land in the data volume.
WORKDIR /var/lib/vigia
ENTRYPOINT ["monitor"]
CMD ["--help"]
