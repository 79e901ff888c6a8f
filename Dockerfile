# katabot images. No build tool beyond npm and tsc; read top to bottom.
#   docker build -t katabot .                         # the bot (last stage, the default target)
#   docker build --target tracer -t katabot-tracer .  # the eBPF tracer (katabot trace) with bpftrace
# Node 24 on Debian bookworm: bookworm's bpftrace (v0.17) is the version the tracer is written for.
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Compile TypeScript (src/) to JavaScript (dist/). Needs the dev dependencies (typescript).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build

# 2. Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. The tracer: katabot plus bpftrace. Runs as root, in a privileged container (loading BPF programs needs it):
#    the traced-ProwJob sidecar (src/jobs/trace.ts), the optional node DaemonSet (deploy/prow/tracer), and for Kata
#    jobs the guest tracer, the node collector and the webhook (deploy/kata-trace).
FROM ${NODE_IMAGE} AS tracer
RUN apt-get update \
 && apt-get install -y --no-install-recommends bpftrace \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json app.yml ./
COPY bin ./bin
COPY data ./data
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Tracing the Kata pods of a cluster a traced job builds (docs/tracing-kata-and-runc.md): the job runs
# scripts/kata-trace.sh, which applies deploy/kata-trace; a traced ProwJob copies both next to its test containers.
COPY scripts/kata-trace.sh scripts/genpolicy-katabot ./scripts/
COPY deploy/kata-trace ./deploy/kata-trace
# The sidecar's command is `katabot`.
RUN ln -s /app/bin/katabot.js /usr/local/bin/katabot
ENTRYPOINT ["katabot"]
CMD ["trace", "--help"]

# 4. The bot (default target): non-root, read-only friendly (writes nothing outside /tmp when KUBECONFIG is set).
FROM ${NODE_IMAGE} AS katabot
ENV NODE_ENV=production
WORKDIR /app
COPY package.json app.yml ./
COPY bin ./bin
COPY data ./data
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# bin/katabot.js runs dist/cli/main.js because src/ is absent.
USER node
EXPOSE 3000
ENTRYPOINT ["node", "/app/bin/katabot.js"]
CMD ["serve"]
