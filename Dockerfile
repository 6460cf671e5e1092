# The `ambient` control plane (`ambient run --mode kube` by default), as deploy/deployment.yaml
# runs it: uid 10001, read-only root filesystem, only /tmp writable. Built and proven by
# `npm run test:container` (test/container/); deploy/README.md says how to build and run it.
#
# Base: a Debian release tag, so a rebuild never moves to another Debian underneath. For
# builds that are reproducible to the byte, pin it by digest as well, in both FROM lines:
#   FROM node:24-bookworm-slim@sha256:<digest>
# (`docker buildx imagetools inspect node:24-bookworm-slim` prints the digest; Renovate and
# Dependabot keep such pins current). Not pinned here: these machines reach no registry and
# build a stand-in base under this tag (test/container/base-image.ts).
#
# The entrypoint runs node directly in exec form. Never `npm start` / `npx ambient`: npm runs
# a bin through `sh -c`, and dash does not forward SIGTERM, so the control plane would never
# drain or release its leader Lease and Kubernetes would SIGKILL it after the grace period.

# --- deps: production dependencies only, as the runtime stage ships them ---------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no production dependency needs its install script (protobufjs' only checks
# its version). Then what Node never loads goes: type declarations, source maps, TypeScript
# sources, docs (licences stay), and native addons prebuilt for other platforms (~80 MB).
# Only node_modules leaves this stage: npm's cache and Node's compile cache stay behind.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.map' -o -name '*.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) ! -iname 'licen[cs]e*' -delete \
 && platform="$(node -p 'process.platform + "-" + process.arch')" \
 && find node_modules -type d -path '*/prebuilds/*' -prune ! -name "$platform" -exec rm -rf {} +

# --- build: compile TypeScript ---------------------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Compiling needs typescript and two type packages, not the other devDependencies: a second
# Node (`node@24`, 189 MB), buf (98 MB), oclif's CLI, vitest. So they are dropped from
# package.json and the lockfile's root entry first; `npm ci` then prunes what only they
# needed and installs the rest at the locked versions (it refuses a lockfile out of sync).
# oclif.manifest.json is committed (a test keeps it current), so the oclif CLI is not needed.
RUN node -e ' \
      const fs = require("node:fs"); \
      const keep = new Set(["typescript", "@types/node", "@types/react"]); \
      for (const [file, root] of [["package.json", (j) => j], ["package-lock.json", (j) => j.packages[""]]]) { \
        const json = JSON.parse(fs.readFileSync(file, "utf8")); \
        const dev = root(json).devDependencies; \
        for (const name of Object.keys(dev)) if (!keep.has(name)) delete dev[name]; \
        fs.writeFileSync(file, JSON.stringify(json)); \
      }' \
 && npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# No source maps: nothing in the image would read them.
RUN npx tsc -p tsconfig.json --sourceMap false

# --- runtime: node, production dependencies, the compiled code; nothing else -----------------
FROM node:24-bookworm-slim AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="ambient" \
      org.opencontainers.image.description="Control plane of the Ambient Code Platform: reconciles agent sessions into AgenticSession custom resources" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:24-bookworm-slim"
# The only writable place under the Deployment's readOnlyRootFilesystem is the /tmp volume, and
# HOME is `/` for a uid without a passwd entry. Nothing is written unless a command needs it
# (local mode's state, the live views' logs, `config set`, `run --embedded`'s address).
ENV NODE_ENV=production \
    AMBIENT_STATE_DIR=/tmp/ambient/state \
    LOCAL_WORKSPACE_ROOT=/tmp/ambient/workspaces \
    AMBIENT_CONFIG_DIR=/tmp/ambient/config
WORKDIR /app
COPY package.json oclif.manifest.json ./
COPY bin ./bin
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["run", "--mode", "kube"]
