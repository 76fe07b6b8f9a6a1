#!/usr/bin/env bash
# Checks the container image's recipe without a Docker engine (`npm run image:check`).
#
# Performs the Dockerfile's steps in a clean temp folder with the Node.js line of its base image
# (node:<major>-bookworm-slim; the binary from the npm registry's `node` package, see
# with-node.sh), then starts the result as the image does: from the runtime folder, as an
# unprivileged user (uid 65534 when root; the image's `node` user), with the baked config and
# the image's environment. Passes when the Dockerfile's HEALTHCHECK command succeeds, a signed
# callback gets 202, the docker compose example's hookrelay.yaml (docs/deployment.md) passes
# check-config, and SIGTERM stops the relay with exit 0.
#
# Keep the steps below in the Dockerfile's order; what differs: no apt-get (the build tools are
# the machine's), and ports 0 (free ones) instead of 8080/9090. Needs the npm registry
# (npm ci, node@<major>) and a C++ toolchain; about 1.5 minutes, most of it compiling SQLite.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
ci="$root/.ci"
dockerfile="$root/Dockerfile"

majors="$(sed -n 's/^FROM node:\([0-9][0-9]*\)-bookworm-slim\( AS .*\)\{0,1\}$/\1/p' "$dockerfile" | sort -u)"
stages="$(grep -c '^FROM ' "$dockerfile")"
if [ "$(grep -c '^FROM node:[0-9]*-bookworm-slim' "$dockerfile")" != "$stages" ] || [ "$(echo "$majors" | wc -l)" != 1 ]; then
  echo "image-check: every stage of the Dockerfile must be FROM node:<one major>-bookworm-slim" >&2
  exit 1
fi
with_node() { "$ci/with-node.sh" "$majors" "$@"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/hookrelay-image-XXXXXX")"
relay_pid=""
cleanup() {
  if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then kill -KILL "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
step() { echo "image-check: $*" >&2; }

# ---- build stage ----
step "build stage (node $majors) in $work/build"
mkdir "$work/build"
cd "$work/build"
export npm_config_build_from_source=true
cp "$root/package.json" "$root/package-lock.json" ./
with_node npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
with_node npm rebuild better-sqlite3 --loglevel=error
with_node node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"
cp "$root/tsconfig.json" ./
cp -R "$root/src" ./src
with_node npm run build --silent
with_node npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
unset npm_config_build_from_source

# ---- runtime stage ----
step "runtime stage in $work/app"
mkdir "$work/app" "$work/data"
cp "$work/build/package.json" "$work/app/package.json"
cp -R "$work/build/node_modules" "$work/app/node_modules"
cp -R "$work/build/dist" "$work/app/dist"
cp -R "$root/config" "$work/app/config"
chmod -R a+rX "$work/app"
run_as=()
uid="$(id -u)"
if [ "$uid" = 0 ]; then
  chown 65534:65534 "$work/data"
  run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  uid=65534
fi
# The image's node (/usr/local/bin/node there), its ENV, the baked config's variables set to
# free ports, and nothing else from this machine's environment.
node_bin="$(with_node sh -c 'command -v node')"
image_env=(env -i PATH="$(dirname "$node_bin"):/usr/bin:/bin" NODE_ENV=production HOOKRELAY_DB_PATH="$work/data/hookrelay.db" PORT=0 ADMIN_PORT=0)

cd "$work/app"
step "starting the relay as uid $uid: CMD node dist/cli/main.js serve"
"${run_as[@]}" "${image_env[@]}" "$node_bin" dist/cli/main.js serve > "$work/relay.log" 2>&1 &
relay_pid=$!

port=""
for _ in $(seq 1 300); do # up to 30 s
  port="$(grep '"msg":"listening"' "$work/relay.log" | sed -n 's/.*[{,]"port":\([0-9][0-9]*\).*/\1/p' | head -n 1 || true)"
  [ -n "$port" ] && break
  kill -0 "$relay_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "image-check: the relay did not start listening:" >&2
  cat "$work/relay.log" >&2
  exit 1
fi
step "listening on port $port"

# The Dockerfile's HEALTHCHECK command, as written there (it reads PORT).
healthcheck="$(node "$ci/image-parts.mjs" healthcheck)"
"${run_as[@]}" "${image_env[@]}" PORT="$port" node -e "$healthcheck"
step "HEALTHCHECK (GET /readyz): ok"

answer="$("${run_as[@]}" "${image_env[@]}" node dist/cli/main.js send-test --source cerebrium --url "http://127.0.0.1:$port")"
echo "$answer" >&2
if ! grep -qE -- '-> 202$' <<<"$answer"; then
  echo "image-check: the signed callback was not accepted with 202" >&2
  exit 1
fi
step "signed callback: 202"

# The docker compose example for PostgreSQL (docs/deployment.md) runs this image with its own
# hookrelay.yaml: that file must pass check-config here, with the compose file's variables set.
node "$ci/image-parts.mjs" compose-config > "$work/compose-hookrelay.yaml"
chmod 644 "$work/compose-hookrelay.yaml"
"${run_as[@]}" "${image_env[@]}" HOOKRELAY_CONFIG="$work/compose-hookrelay.yaml" \
  HOOKRELAY_POSTGRES_URL=postgres://hookrelay:secret@postgres:5432/hookrelay CEREBRIUM_WEBHOOK_SECRET=secret \
  APP_WEBHOOK_URL=https://app.internal.example/hooks HOOKRELAY_ADMIN_TOKEN=token \
  node dist/cli/main.js check-config >&2
step "docs/deployment.md's compose config: valid for this build"

kill -TERM "$relay_pid"
code=0
wait "$relay_pid" || code=$?
relay_pid=""
if [ "$code" != 0 ]; then
  echo "image-check: the relay exited $code on SIGTERM:" >&2
  cat "$work/relay.log" >&2
  exit 1
fi
step "stopped on SIGTERM with exit 0: the image's steps work on Node $majors"
