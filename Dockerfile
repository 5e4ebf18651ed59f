# Polku: one image for every process shape (see docker-compose.yml). Every HTTP process runs
# under gunicorn (`polku serve`); /metrics is on port 9100, unauthenticated: publish it only to
# the monitoring network.
#   docker build -t polku .
#   docker run -p 8000:8000 polku                      # all three services in one process, SQLite
#   docker run polku serve enrolment --port 8000       # one service of the distributed deployment
#   docker run -p 8000:8000 polku up --demo            # the demo (werkzeug's simple server)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POLKU_DATA_DIR=/var/lib/polku \
    POLKU_MASTER_KEY_FILE=/etc/polku/keys/master.key \
    POLKU_METRICS_PORT=9100

WORKDIR /app

# The workspace's PDF report is printed by WeasyPrint, which needs Pango and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Metadata first, so the dependency layer is cached across code-only changes.
# (README.md* : the readme is optional for the build; the glob keeps COPY from failing.)
COPY pyproject.toml README.md* ./
COPY shared ./shared
COPY services ./services
RUN pip install . \
    && cd / && python -c "from services.workspace.i18n import compile_catalogues as c; c()" \
    && rm -rf /app/build /app/*.egg-info

RUN groupadd --system --gid 10001 polku \
    && useradd --system --uid 10001 --gid polku --home-dir /home/polku --create-home polku \
    && mkdir -p "$POLKU_DATA_DIR" /etc/polku/keys \
    && chown polku:polku "$POLKU_DATA_DIR" /etc/polku/keys \
    && chmod 0700 /etc/polku/keys
# The master key wrapping the key store: never in the data dir's volume (docs/privacy.md, s. 4).
VOLUME ["/var/lib/polku", "/etc/polku/keys"]
USER polku

EXPOSE 8000 9100

# Only meaningful for the HTTP processes (up, serve); docker-compose.yml disables it for the
# relay and projector containers. Slim images have no curl, so ask Python.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["polku"]
CMD ["serve", "all", "--host", "0.0.0.0", "--port", "8000"]
