# syntax=docker/dockerfile:1
# The gateway's production image. Its steps are the ones test/production/build.test.ts runs on a copy of the
# checkout: npm ci, npm run build, npm prune --omit=dev, then node dist/server/main.js.

FROM node:20-slim AS build
WORKDIR /app
# The lock file first, so the install is cached until the dependencies change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
WORKDIR /app
# package.json marks dist/ as ES modules; nothing else of the checkout is needed at run time.
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 4000
# SIGTERM drains: pollers stop (leases released with Redis), graphql-ws clients get 1001, SSE streams end.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server/main.js"]
