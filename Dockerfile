# The service image; the `test` stage adds the test dependencies for docker-compose.test.yml.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --create-home --uid 10001 shop
COPY pyproject.toml README.md ./
COPY shop ./shop
COPY migrations ./migrations

FROM base AS app
RUN pip install . && rm -rf build
USER shop
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
CMD ["shop", "serve"]

FROM base AS test
# The system programs some tests drive, from Debian: Chromium (tests/web; Playwright never
# downloads a browser, and its own Node driver needs libatomic1), nginx (tests/deploy) and
# PgBouncer (tests/pooler).
RUN apt-get update && apt-get install -y chromium libatomic1 nginx-light pgbouncer \
    && rm -rf /var/lib/apt/lists/*
COPY tests ./tests
COPY ammo ./ammo
COPY deploy ./deploy
COPY run_tests.sh ./
RUN pip install -e '.[test]' && chown -R shop:shop /app
USER shop
ENV SHOP_TESTS_IN_DOCKER=no SHOP_TESTS_PYTHON=system
ENTRYPOINT ["./run_tests.sh"]
