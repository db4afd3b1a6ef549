# Chorus — container image.
#
#   docker build -t chorus .
#   docker run --rm -p 3000:3000 --env-file .env chorus
#
# Configuration is read from the environment only: see .env.example and
# docs/configuration.md. With no provider configured the built-in simulator
# (sim/alpha, sim/beta, sim/gamma) serves, so the image runs as it is.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------
# build: all dependencies, compile TypeScript, then drop the dev dependencies.
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# `npm ci` is not used on purpose: the committed lockfile does not list every
# platform's optional packages (biome, esbuild, rollup binaries), which makes
# `npm ci` fail. `npm install` honours the lockfile's versions and adds the
# optional package for this platform.
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------
# runtime: compiled code and production dependencies, run as `node`.
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app

# HOST=0.0.0.0 so the published port reaches the server (the service's own
# default, 127.0.0.1, is only right outside a container).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

# Files stay owned by root: the `node` user can read them, not change them.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The built-in patterns are data files, read at boot.
COPY patterns ./patterns

USER node
EXPOSE 3000

# The server finishes running analyses on SIGTERM (SHUTDOWN_GRACE_MS, 10 s by
# default, then up to 15 s more before it forces an exit): give `docker stop`
# a timeout above that, e.g. `docker stop -t 30` or compose's stop_grace_period.
STOPSIGNAL SIGTERM

# No curl in the slim image: node's own fetch checks liveness.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]

# Not `npm start`: its prestart step would compile again, and npm would stand
# between the server and the stop signal.
CMD ["node", "dist/server.js"]
