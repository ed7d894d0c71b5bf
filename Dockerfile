# syntax=docker/dockerfile:1
# Two stages: `build` compiles with every dependency; the runtime image gets the compiled code and
# the production dependencies only, and runs as the unprivileged `node` user.
# scripts/image-check.sh performs these same steps in a clean folder (CI has no Docker engine):
# keep the two in step.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci's postinstall applies patches/ to dependencies (patch-package; see README, FIT import).
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY libs ./libs
COPY scripts ./scripts
COPY bench ./bench
COPY web ./web
RUN npm run build

FROM node:24-bookworm-slim AS runtime
# MALLOC_ARENA_MAX: glibc gives each thread that allocates its own malloc arena, whose freed pages
# stay resident; two arenas keep the server's threads (PostgreSQL driver, workers) from growing the
# RSS (README, "Footprint"). MALLOC_TRIM_THRESHOLD_: a fixed threshold keeps glibc from raising its
# mmap threshold after a large free, so a decoding thread's large buffers are unmapped when freed
# instead of staying in an arena (PostgreSQL idle after an import 225 -> 177 MiB; docs/benchmarks.md).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# The contract and the Parquet codec are npm workspaces: their package.json lets npm link them, their
# built dist is copied below.
COPY libs/contract/package.json ./libs/contract/
COPY libs/parquet-streams/package.json ./libs/parquet-streams/
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /data \
 && chown node:node /data
COPY --from=build /app/dist ./dist
COPY --from=build /app/libs/contract/dist ./libs/contract/dist
COPY --from=build /app/libs/parquet-streams/dist ./libs/parquet-streams/dist
# Read at run time next to the compiled catalog module (tsc copies no JSON).
COPY --from=build /app/libs/seed-data/activity-types.json ./dist/libs/seed-data/
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# --max-semi-space-size: V8 sizes the young generation from the machine's memory; on a large host it
# grew to ~150 MiB while booting and stayed (8, not 16: the decoding thread's peak on a large file fell
# by ~65 MiB; server CPU 0.98–1.15×, within the run-to-run spread). --liftoff-only: the embedded database (PGlite, WebAssembly)
# stays on V8's baseline compiler; optimising PostgreSQL's SQL parser alone took ~600 MiB at every
# boot (README, "Footprint"; npm run bench:footprint runs this CMD, bench:node-flags measures costs).
# --heap-growing-percent=50: after a full collection V8 lets the old generation grow by half of what
# survived it. Its own factor (1.2-1.4 here) left less room than its young generation, and by its rule
# it then starts the next full collection at once: for this server's ~75 MiB heap, back to back under
# load. A 4 h stream read cost 5.9-8.3 ms of server CPU, 3.9-4.2 ms with it (100: 3.2-3.7 ms, but
# +15 MiB idle after an import on PostgreSQL, against +5 MiB for 50). The incremental-marking trigger
# flags were tried instead: atomic 50-70 ms pauses (docs/benchmarks.md, "Full collections back to back").
CMD ["node", "--enable-source-maps", "--max-semi-space-size=8", "--liftoff-only", "--heap-growing-percent=50", "dist/src/main.js"]
