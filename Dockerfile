# syntax=docker/dockerfile:1
# Multi-stage build of the `ambient` CLI / control plane.
#
# The entrypoint runs node directly in exec form. Never `npm start` / `npx ambient`: npm runs
# a bin through `sh -c`, and dash does not forward SIGTERM, so the control plane would never
# drain or release its leader Lease and Kubernetes would SIGKILL it after the grace period.

# --- build: full dependencies, compile TypeScript, generate the oclif manifest ---------------
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY proto ./proto
RUN npm run build

# --- runtime: production dependencies only, non-root -------------------------------------------
FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY --from=build /src/oclif.manifest.json ./oclif.manifest.json
COPY bin ./bin
COPY proto ./proto
COPY deploy ./deploy
# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["run", "--mode", "kube"]
