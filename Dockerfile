# syntax=docker/dockerfile:1
# changegate: receiver and workers in one image (the command picks the role).
#   docker build -t changegate .
#   docker run -p 8080:8080 -e KAFKA_BROKERS=kafka:9092 -e CHANGEGATE_GITHUB_SECRET=… changegate
#   docker run … changegate worker change,incident,cmdb,evidence,notify
# Node 24 LTS is the supported runtime (Node 20 reached end of life in April 2026).
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only, in their own stage so a source change does not reinstall them.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production PORT=8080
WORKDIR /app
# Files stay owned by root and read-only to the process: it never writes to its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schemas ./schemas
# The receiver's spool directory: a volume mounted here starts owned by the process's user.
RUN mkdir -p /var/lib/changegate && chown 1000:1000 /var/lib/changegate
# Numeric uid of the image's `node` user: Kubernetes' runAsNonRoot can only verify a number.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (src/runtime/signals.ts): graceful drain on stop.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
