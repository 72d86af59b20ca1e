# syntax=docker/dockerfile:1
# The Billing Connector: the daemon (default) or the API (`serve`), from wheels.
#
#   docker build -t billing-connector .
#   docker run -v ./tenants:/etc/billing-connector/tenants:ro billing-connector
#   docker compose up     # PostgreSQL, the daemon and the API with the example tenant
#
# Settings come from CONNECTOR_* variables (README, "Configuration"); tenant files are
# read from /etc/billing-connector/tenants, and the state (SQLite database when no
# CONNECTOR_DATABASE_URL is given, rendered statements, ERP import files) is kept in
# /var/lib/billing-connector.

# Stage 1: the wheels of the connector, its built-in plugins and every dependency, made
# by the same script the distribution test runs (tests/deploy/test_distributions.py).
FROM python:3.11-slim AS builder
WORKDIR /src
COPY constraints.txt .
RUN pip install --no-cache-dir --constraint constraints.txt build
COPY . .
RUN deploy/wheels.sh build /wheels

# Stage 2: those wheels installed with no package index, no compiler and no source.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 connector \
    && useradd --system --uid 10001 --gid connector --no-create-home \
      --home-dir /var/lib/billing-connector --shell /usr/sbin/nologin connector \
    && install -d -o connector -g connector -m 0750 /var/lib/billing-connector \
    && install -d -m 0755 /etc/billing-connector/tenants
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=deploy/wheels.sh,target=/usr/local/bin/wheels.sh \
    wheels.sh install /wheels /opt/billing-connector

ENV PATH=/opt/billing-connector/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CONNECTOR_TENANTS_DIR=/etc/billing-connector/tenants \
    CONNECTOR_OUTPUT_DIR=/var/lib/billing-connector/out \
    CONNECTOR_DATABASE_URL=sqlite:////var/lib/billing-connector/connector.db \
    CONNECTOR_API__HOST=0.0.0.0 \
    CONNECTOR_API__PORT=8080 \
    CONNECTOR_METRICS__HOST=0.0.0.0 \
    CONNECTOR_METRICS__PORT=9464

VOLUME ["/etc/billing-connector/tenants", "/var/lib/billing-connector"]
# 8080: the billing API and review page (`serve`); 9464: /healthz, /readyz, /metrics.
EXPOSE 8080 9464
WORKDIR /var/lib/billing-connector
USER 10001:10001

# The daemon's liveness (connector/daemon/health.py): 503 when its loop stopped turning.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]

ENTRYPOINT ["connector"]
CMD ["run"]
