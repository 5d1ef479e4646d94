# Roster's image: a thin wrapper over scripts/build-release, which the test command
# builds and starts on its own (no container engine runs where Roster is developed,
# so the image itself is built only by the platform: App Platform or `docker build .`).
#
#   docker build -t roster .
#   docker run -p 3000:3000 -v roster-data:/app/data roster

# --- build: the same script the tests run, into /out ---------------------------
FROM rust:1.95-bookworm AS build
# Node's npm supplies wasm-opt (binaryen) for the WASM build; the script installs
# cargo-leptos and wasm-bindgen itself.
RUN apt-get update \
 && apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/build-release /out

# --- runtime: the release directory and nothing else ----------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin roster \
 && mkdir -p /app/data \
 && chown roster /app/data
COPY --from=build /out/roster /out/hash.txt /app/
COPY --from=build /out/site /app/site
WORKDIR /app
# Production defaults: Secure cookies and JSON logs, every interface, the site beside
# the binary, SQLite on the volume unless DATABASE_URL names PostgreSQL.
ENV ROSTER_PRODUCTION=true \
    ROSTER_ADDR=0.0.0.0:3000 \
    LEPTOS_SITE_ROOT=/app/site \
    DATABASE_URL=sqlite:///app/data/roster.db \
    ROSTER_BACKUP_DIR=/app/data/backups
VOLUME ["/app/data"]
USER roster
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["/app/roster"]
CMD ["serve"]
