# The Glidepath image: the CLI as the entry point, compiled JavaScript and the prebuilt workflow bundle
# (no TypeScript tooling, no webpack run at start), production dependencies only, running as `node`.
#   docker build -t glidepath .
#   docker run --env-file worker.env glidepath                      # = glidepath worker
#   docker run --env-file slack.env -p 3000:3000 glidepath slack serve --port 3000 --host 0.0.0.0
#   docker run -e TEMPORAL_ADDRESS=… -v "$PWD:/work" -w /work glidepath rollout start deploy/rollout.yaml --wait
#
# NOT BUILT HERE: the machines this was written on reach no container registry, so neither this image nor
# its base has been pulled or built by us (README "Known limits"). The base is pinned by digest: the
# digest below is node:22-bookworm-slim at Node 22.23.1, as a public project's Dockerfile pins it and its
# build asserts `node --version`; check it with `docker buildx imagetools inspect node:22-bookworm-slim`
# and let Dependabot/Renovate move it.
ARG NODE_IMAGE=node:22-bookworm-slim@sha256:53ada149d435c38b14476cb57e4a7da73c15595aba79bd6971b547ceb6d018bf

# ── build: full install, compile (tsc) and bundle the workflow code, then pack what npm would publish ──
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# npm pack runs prepack (npm run build: dist/ + dist/workflow-bundle.js) and keeps exactly package.json's `files`.
RUN npm pack --pack-destination /tmp && mv /tmp/glidepath-ml-glidepath-*.tgz /tmp/glidepath.tgz

# ── runtime: the packed package with its production dependencies ──
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="glidepath" \
      org.opencontainers.image.description="Safe, durable rollouts of model versions to Azure ML managed online endpoints (Temporal worker, CLI, Slack bridge)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:22-bookworm-slim"
ENV NODE_ENV=production \
    GLIDEPATH_METRICS_ADDRESS=0.0.0.0:9464 \
    NODE_COMPILE_CACHE=/tmp/node-compile-cache
WORKDIR /app
# What `npm install <tarball>` gives a user, with the dependency versions of the lockfile (npm ci); `glidepath`
# on PATH too, for CI systems that run steps in the image with their own entry point (Azure DevOps container jobs).
COPY --from=build /tmp/glidepath.tgz /src/package-lock.json /tmp/
RUN tar -xzf /tmp/glidepath.tgz -C /app --strip-components=1 \
 && mv /tmp/package-lock.json /app/ \
 && npm ci --omit=dev --no-audit --no-fund \
 && rm /tmp/glidepath.tgz && npm cache clean --force \
 && printf '#!/bin/sh\nexec node /app/bin/glidepath.js "$@"\n' > /usr/local/bin/glidepath && chmod 755 /usr/local/bin/glidepath \
 && mkdir -p /var/lib/glidepath/emulator && chown -R 1000:1000 /var/lib/glidepath
# the image's `node` user (uid and gid 1000), numeric so that runtimes enforcing non-root can check it
USER 1000:1000
EXPOSE 9464
# The worker serves Prometheus /metrics on :9464 (GLIDEPATH_METRICS_ADDRESS): healthy while it answers.
# Other commands (slack serve, rollout start) override or disable this check (--no-healthcheck).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/glidepath.js"]
CMD ["worker"]
