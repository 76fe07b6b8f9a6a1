# hookrelay container image.
#
#   docker build -t hookrelay .
#   docker run -d --name hookrelay -p 8080:8080 -v hookrelay-data:/data \
#     -e CEREBRIUM_WEBHOOK_SECRET=... -e APP_WEBHOOK_URL=https://app.internal/hooks hookrelay
#
# The image bakes config/hookrelay.yaml, whose values come from the environment
# (${VAR:-default}); mount your own config and point HOOKRELAY_CONFIG at it to change more.
# The SQLite database lives in the /data volume.
#
# Give `docker stop` more than its default 10 s (e.g. `docker stop -t 30`, compose
# `stop_grace_period: 30s`): on SIGTERM the relay closes its listener, answers the requests
# already received (up to 10 s for slow ones), then lets in-flight attempts finish for up to
# 5 s and releases the rest to pending.

# ---- build: compile better-sqlite3 from source, compile TypeScript, drop dev dependencies ----
FROM node:26-bookworm-slim AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Build native addons from source (prebuild-install skips its download and node-gyp compiles
# against this image's Node and glibc).
ENV npm_config_build_from_source=true

# Dependencies first, so this layer is reused while only the sources change. `--ignore-scripts`
# because the package's `prepare` script runs the build, and the sources are not copied yet;
# the one dependency that needs its install script is rebuilt explicitly right after.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: production dependencies, compiled code and config only, as a non-root user ----
FROM node:26-bookworm-slim AS runtime

ENV NODE_ENV=production \
    HOOKRELAY_DB_PATH=/data/hookrelay.db

WORKDIR /app

# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config

# The database (and its -wal/-shm files and serve lock) live in /data, owned by the
# unprivileged `node` user of the base image; code and config stay read-only to it.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node

# 8080: public listener (POST callbacks here). 9090: admin listener (bound to 127.0.0.1
# unless ADMIN_HOST=0.0.0.0 is set; set HOOKRELAY_ADMIN_TOKEN too when you do).
EXPOSE 8080 9090

# Slim images have no curl: ask Node. Follows ${PORT} like the baked config does.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const r=require('node:http').get({host:'127.0.0.1',port:process.env.PORT||8080,path:'/readyz',timeout:3000},(res)=>process.exit(res.statusCode===200?0:1));r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',()=>process.exit(1))"]

CMD ["node", "dist/cli/main.js", "serve"]
