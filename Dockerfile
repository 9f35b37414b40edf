# The engine as a container image: the web app under gunicorn by default, the scheduler with
# `commission scheduler`. Everything is installed from the project's own lock files.
# docs/deploy.md shows it with PostgreSQL (compose.yaml) and behind a reverse proxy.

# GOV.UK Frontend, Mermaid and CodeMirror, exactly as package-lock.json pins them; the programme
# editor's script bundled by esbuild (a dev package, pruned once it has run)
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY engine/web/assets ./engine/web/assets
RUN npm run --silent build && npm prune --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    COMMISSION_ASSETS=/app/node_modules/govuk-frontend/dist/govuk
WORKDIR /app
# WeasyPrint (an applicant's application as a PDF) lays out text with Pango, in these fonts
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY --from=assets /build/engine/web/static/build ./engine/web/static/build
COPY programmes ./programmes
COPY demo ./demo
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin commission
COPY --from=assets /build/node_modules ./node_modules
USER commission
EXPOSE 8000
# one process per core is a good start; each holds at most COMMISSION_DB_POOL connections
# --timeout: a KPI page of 100,000 cases can take over a minute after a change (docs/deploy.md)
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "180", "--forwarded-allow-ips", "*", \
     "--access-logfile", "-", "engine.web:create_app()"]
