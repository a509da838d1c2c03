# The Glidepath worker image (also runs `glidepath slack serve` and `glidepath emulator start`):
#   docker build -t glidepath .
#   docker run --env-file worker.env glidepath            # = node bin/glidepath.js worker
# The workflow code is bundled at build time (npm run build:bundle → dist/workflow-bundle.js), so the
# worker starts without webpack (GLIDEPATH_WORKFLOW_BUNDLE).

# ── build: full install, bundle the workflow code ──
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:bundle

# ── runtime: production dependencies, sources (run through tsx), the bundle ──
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    GLIDEPATH_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    GLIDEPATH_METRICS_ADDRESS=0.0.0.0:9464
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/workflow-bundle.js dist/workflow-bundle.js
COPY bin bin
COPY activities activities
COPY client client
COPY demo demo
COPY domain domain
COPY emulator emulator
COPY worker worker
COPY workflows workflows
COPY tsconfig.json ./
# The emulator keeps its certificate and state here; a named volume mounted on it starts with this ownership.
RUN mkdir -p /var/lib/glidepath/emulator && chown -R node:node /var/lib/glidepath
USER node
EXPOSE 9464
ENTRYPOINT ["node", "bin/glidepath.js"]
CMD ["worker"]
