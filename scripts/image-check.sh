#!/usr/bin/env bash
# Performs the Dockerfile's two stages without a Docker engine, in a clean folder, and boots the
# result against PostgreSQL:
#   build stage   – the files the Dockerfile COPYs (read from the Dockerfile itself), then its RUN
#                   lines (npm ci with dev dependencies, npm run build);
#   runtime stage – package.json + lock, `npm ci --omit=dev`, the compiled dist/ from the build
#                   stage; started with the image's ENV and CMD as an unprivileged user;
# then answers the image's HEALTHCHECK command, and an authenticated request.
# Usage: scripts/image-check.sh DATABASE_URL   (the database is emptied first)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
database_url=${1:?usage: image-check.sh postgres://…/database}
port=${IMAGE_CHECK_PORT:-3947}
work=$(mktemp -d "${TMPDIR:-/tmp}/image-check.XXXXXX")
chmod 755 "$work"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
t0=$SECONDS
say() { printf '[image-check %3ss] %s\n' "$((SECONDS - t0))" "$*"; }

# Lines of one stage of the Dockerfile ("build" or "runtime"), continuation lines joined.
stage() {
  awk -v want="$1" '
    /\\$/ { sub(/\\$/, ""); line = line $0; next }
    { line = line $0; if (line ~ /^FROM /) { n = split(line, w, " "); current = w[n] } else if (current == want) print line; line = "" }
  ' Dockerfile
}
grep -q '^FROM node:24-bookworm-slim AS build' Dockerfile
grep -q '^FROM node:24-bookworm-slim AS runtime' Dockerfile
stage runtime | grep -q '^USER node$' || { echo "the runtime stage must switch to USER node"; exit 1; }
stage runtime | grep -q '^HEALTHCHECK ' || { echo "the runtime stage must have a HEALTHCHECK"; exit 1; }

say "build stage in $work/build"
mkdir -p "$work/build"
while read -r _ args; do
  # COPY src… dest (no --from in the build stage)
  read -r -a parts <<<"$args"
  for src in "${parts[@]:0:${#parts[@]}-1}"; do cp -R "$repo/$src" "$work/build/"; done
done < <(stage build | grep '^COPY ')
while read -r _ command; do
  say "RUN $command"
  (cd "$work/build" && bash -c "$command") >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
  if grep -q EBADENGINE "$work/build.log"; then grep EBADENGINE "$work/build.log"; echo "engine warnings"; exit 1; fi
done < <(stage build | grep '^RUN ')

say "runtime stage in $work/app"
mkdir -p "$work/app" "$work/data"
# COPY lines of the runtime stage without --from: from the repository, before its install.
while read -r _ args; do
  read -r -a parts <<<"$args"
  dest="${parts[${#parts[@]}-1]}"
  target="$work/app/${dest#./}"
  mkdir -p "$target"
  # A directory source copies its contents, as Docker's COPY does.
  for src in "${parts[@]:0:${#parts[@]}-1}"; do
    if [ -d "$repo/$src" ]; then cp -R "$repo/$src/." "$target"; else cp -R "$repo/$src" "$target"; fi
  done
done < <(stage runtime | grep '^COPY ' | grep -v -- '--from=')
(cd "$work/app" && npm ci --omit=dev --no-audit --no-fund) >"$work/runtime.log" 2>&1 || { cat "$work/runtime.log"; exit 1; }
if grep -q EBADENGINE "$work/runtime.log"; then grep EBADENGINE "$work/runtime.log"; exit 1; fi
# The postinstall applies patches/ in the runtime install too (the FIT decoder fix).
grep -q '^Applying patches' "$work/runtime.log" || { cat "$work/runtime.log"; echo "patches/ were not applied by the runtime install"; exit 1; }
for dev in typescript jest s3rver eslint playwright-core; do
  [ ! -e "$work/app/node_modules/$dev" ] || { echo "dev dependency $dev is in the runtime install"; exit 1; }
done
# COPY --from=build lines of the runtime stage.
while read -r _ _ src dest; do
  case "$dest" in ./*) dest="$work/app/${dest#./}" ;; esac
  mkdir -p "$(dirname "$dest")"
  case "$dest" in */) mkdir -p "$dest" ;; esac
  cp -R "$work/build/${src#/app/}" "$dest"
done < <(stage runtime | grep '^COPY --from=build ')
say "runtime install: $(du -sh "$work/app/node_modules" | cut -f1) of node_modules"

psql "$database_url" -q -c 'drop schema if exists public cascade; drop schema if exists drizzle cascade; create schema public;' >/dev/null

# The image's ENV, then the deployment's settings (as docker-compose.yml passes them).
declare -a envs=()
while read -r _ assignments; do
  for pair in $assignments; do envs+=("$pair"); done
done < <(stage runtime | grep '^ENV ')
envs+=("DATA_DIR=$work/data" "PORT=$port" "HOST=127.0.0.1" "DATABASE_URL=$database_url" "AUTH_SECRET=image-check-secret-0123456789abcdef0123" "LOG_LEVEL=warn")
cmd=$(stage runtime | grep '^CMD ' | sed 's/^CMD //')
mapfile -t argv < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$cmd")
run_as=()
if [ "$(id -u)" = 0 ]; then chown -R nobody "$work/data"; run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups); fi
say "start: ${argv[*]} (as $([ ${#run_as[@]} -gt 0 ] && echo nobody || id -un))"
(cd "$work/app" && exec env -i PATH="$PATH" "${envs[@]}" "${run_as[@]}" "${argv[@]}") >"$work/server.log" 2>&1 &
server=$!

health=$(stage runtime | grep '^HEALTHCHECK ' | sed 's/.*CMD //')
mapfile -t probe < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$health")
healthy=""
for _ in $(seq 1 60); do
  if PORT=$port "${probe[@]}" 2>/dev/null; then healthy=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$healthy" ]; then echo "the HEALTHCHECK never passed"; cat "$work/server.log"; exit 1; fi
say "HEALTHCHECK passed: $(curl -fsS "http://127.0.0.1:$port/health")"

email="image-check-$RANDOM@example.com"
token=$(curl -fsS -D - -o /dev/null -X POST "http://127.0.0.1:$port/api/auth/sign-up/email" \
  -H 'content-type: application/json' -d "{\"name\":\"Image Check\",\"email\":\"$email\",\"password\":\"image-check-passphrase-42\"}" \
  | tr -d '\r' | awk -F': ' 'tolower($1) == "set-auth-token" { print $2 }')
[ -n "$token" ] || { echo "sign-up gave no token"; cat "$work/server.log"; exit 1; }
athletes=$(curl -fsS "http://127.0.0.1:$port/api/v1/athletes" -H "authorization: Bearer $token")
echo "$athletes" | grep -q '"items"' || { echo "authenticated request failed: $athletes"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/athletes")
[ "$status" = 401 ] || { echo "unauthenticated request answered $status, expected 401"; exit 1; }
say "authenticated GET /api/v1/athletes answered: $athletes"
script=$(curl -fsS "http://127.0.0.1:$port/app/" | grep -o '/app/assets/[^"]*\.js' | head -1)
[ -n "$script" ] && curl -fsS -o /dev/null "http://127.0.0.1:$port$script" || { echo "the web app (/app) is not in the image"; exit 1; }
say "the web app answered at /app ($script)"
say "image check passed"
