# syntax=docker/dockerfile:1
#
# tradectl: one image for every role (worker, sandbox, one-shot commands such as `shards init`).
#
#   docker build -t tradectl .
#   docker run --rm tradectl tradectl --help
#   docker run --rm -p 8080:8080 -e TRADECTL_MYSQL_URL=... -e TRADECTL_REDIS_URL=... \
#     -e TRADECTL_KAFKA_BROKERS=... -v "$PWD/prod.yaml:/etc/tradectl/config.yaml:ro" \
#     -e TRADECTL_CONFIG=/etc/tradectl/config.yaml tradectl
#
# Node 24 (LTS): package.json allows Node 20.12+, but fastify's cookie dependency already asks
# for Node 22+. The code uses nothing Node 24 removed: the built CLI, the worker and a sample of
# the unit and integration tests (the end-to-end sync through Kafka among them) ran on Node 24.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: every dependency (TypeScript), compiles to dist/ and copies the Lua scripts -------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/
COPY bin ./bin
COPY src ./src
RUN npm run build && chmod 0755 dist/bin/tradectl.js

# --- production dependencies only, in their own stage so the build's dev tree never leaks ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM/SIGINT to node (which then drains and exits 0) and reaps
# zombies; node as PID 1 would ignore signals it has no handler for yet.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
# kafkajs 2.2.4 hands setTimeout a negative delay when it is not throttled; Node clamps it to
# 1 ms as Node 20 did, but since Node 23 also warns on every client start (kafkajs issue 1751).
# The old space is capped because V8 sizes it from the host's memory, not the container's, and
# lets garbage pile up to ~170 MB between collections: with 192 MB the worker syncing 50,000
# orders stays under ~200 MB resident instead of ~310 (bench/worker-chaos.ts runs it this way).
# Raise it with the container's memory limit.
ENV NODE_ENV=production \
  NODE_OPTIONS="--max-old-space-size=192 --disable-warning=TimeoutNegativeWarning"
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
RUN ln -s /app/dist/bin/tradectl.js /usr/local/bin/tradectl
# The node image's unprivileged user (uid 1000); the app files stay root-owned and read-only.
USER node
# The worker's HTTP API (config api.port): /healthz, /readyz, /metrics, /v1/stock.
EXPOSE 8080
# Liveness only (/healthz answers while the process runs); /readyz is for load balancers and
# orchestrators that can act on dependencies being down. No curl in the slim image: Node's fetch.
# A container started with another command (shards init, sandbox) should disable or replace it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tini", "--"]
CMD ["tradectl", "worker"]
