# syntax=docker/dockerfile:1
# The daemon as a container image: same ports and `start` flags as Go flagd (8013 evaluation, 8014 management,
# 8015 sync, 8016 OFREP). Build: docker build -t flagd-ts:0.1.0 .
# Stage 1 installs and bundles the daemon into one file (scripts/bundle-daemon.mjs, esbuild); stage 2 installs only
# the optional cloud/Kubernetes SDKs the bundle loads lazily, and stage 3 is a slim non-root runtime.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm install --no-audit --no-fund && npm run bundle

FROM node:20-bookworm-slim AS optional-sdks
WORKDIR /opt/flagd
# Versions pinned like the workspace (toolchain.md §1); loaded only when a kubernetes or blob source is configured.
RUN npm init -y >/dev/null \
 && npm install --omit=dev --no-audit --no-fund --save-exact \
      @kubernetes/client-node@1.4.0 @aws-sdk/client-s3@3.1169.0 \
      @google-cloud/storage@7.22.0 @azure/storage-blob@12.32.0

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/flagd
COPY --from=optional-sdks /opt/flagd/node_modules ./node_modules
COPY --from=build /src/packages/daemon/dist/flagd.mjs ./flagd.mjs
# Debian's node image ships a `node` user; run as an unprivileged numeric uid so runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8013 8014 8015 8016
HEALTHCHECK --interval=10s --timeout=2s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8014/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/opt/flagd/flagd.mjs"]
CMD ["start", "--uri", "file:/etc/flagd/flags.json"]
