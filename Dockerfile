# syntax=docker/dockerfile:1
# Switchboard hub image: `docker build -t switchboard .` then
#   docker run --rm -p 8080:8080 switchboard                              # embedded broker
#   docker run --rm -p 8080:8080 -v $PWD/hub.yaml:/etc/switchboard/config/switchboard.yaml:ro \
#     switchboard serve --config /etc/switchboard/config/switchboard.yaml
# Node 20 on Debian bookworm (glibc 2.36): the uWebSockets.js build in package.json ships a native
# binary for Node 20 (ABI 115) that loads on glibc 2.36; on musl (Alpine) it would fall back to its
# slow pure-JS server, which the hub refuses to run on (exit code 3).
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile the TypeScript workspaces (protocol, client-sdk, src) to dist/, and the
# SDK's browser bundles to client-sdk/dist/bundle/ (npm run build) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY protocol/package.json protocol/
COPY client-sdk/package.json client-sdk/
# --ignore-scripts: `prepare` would build before the sources are here; native helpers
# (bufferutil, utf-8-validate, msgpackr-extract) ship prebuilt binaries or are optional.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY protocol/ protocol/
COPY client-sdk/ client-sdk/
COPY src/ src/
COPY scripts/build-cli.ts scripts/
RUN npm run build:dist

# ---- runtime: production dependencies and the compiled output only ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY client-sdk/package.json client-sdk/
# --ignore-scripts: `prepare` runs tsc, a devDependency that --omit=dev leaves out.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/ dist/
COPY --from=build /app/protocol/dist/ protocol/dist/
COPY --from=build /app/client-sdk/dist/ client-sdk/dist/
COPY bin/ bin/
# The demo page the hub serves at / (src/http/demo.ts; the SDK bundle comes with client-sdk/dist/).
COPY demo/ demo/
COPY admin/ admin/
# The `node` user (uid 1000) of the official image; Kubernetes pods run as runAsUser: 1000.
USER 1000:1000
EXPOSE 8080
# Docker's own health check (Kubernetes ignores it and uses the pod's probes). No curl in slim:
# Node's fetch. Assumes plain HTTP on $PORT (default 8080); with tls.* set, drop it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The hub handles SIGTERM itself (drain, then exit), so node can be PID 1.
ENTRYPOINT ["node", "bin/switchboard.js"]
CMD ["serve"]
