# syntax=docker/dockerfile:1
# One image for the three processes: `web` (default), `worker` and `cron` (see compose.yaml).
# Python 3.11 is the interpreter requirements.runtime.lock was resolved with.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY requirements.runtime.lock ./
# Runtime dependencies only (no pytest, no playwright), every file checked against its pinned hash.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.runtime.lock \
 && /opt/venv/bin/pip uninstall --yes pip
COPY webapp /app/webapp
RUN /opt/venv/bin/python -m compileall -q /app/webapp

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLASK_APP=wsgi \
    GUNICORN_BIND=0.0.0.0:3080 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin app
WORKDIR /app
# Code and virtualenv stay owned by root: the app user can run them but not change them.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/webapp ./webapp
COPY wsgi.py worker.py ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
USER 10001:10001
EXPOSE 3080
ENTRYPOINT ["python", "-m", "webapp.serve.entrypoint"]
CMD ["web"]
