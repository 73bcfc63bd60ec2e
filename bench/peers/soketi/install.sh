#!/usr/bin/env bash
# Install soketi 1.6.1 (npm @soketi/soketi) plus the test clients into
# $SOKETI_DIR (default ${TMPDIR:-/tmp}/soketi-peer), from the npm registry only.
#
# Why the override: @soketi/soketi@1.6.1 depends on
#   "uWebSockets.js": "https://github.com/uNetworking/uWebSockets.js.git#v20.10.0"
# which is not on the npm registry. npm `overrides` maps it
# to a registry republish of the uWS.js binaries:
#   @trufflesuite/uws-js-unofficial@20.30.0-unofficial.0
#     - ships uws_linux_x64_{93,108,115}.node = Node 16/18/20 (glibc >= 2.27)
#     - API close to v20.10 (what soketi was written for); soketi 1.6.1 runs
#       unpatched on it.
#   Rejected: @btc-vision/uwebsockets.js@20.57.0 and @20.56.0 - their Node 20
#     binary needs GLIBC_2.38; Debian 12 has 2.36 ("GLIBC_2.38 not found").
#   Caveat: trufflesuite's loader silently falls back to a slow pure-JS (ws)
#     implementation when the native binary cannot load (e.g. Node 22, ABI 127).
#     This script (and start.sh) refuse to continue in that case.
#
# Patches to files under node_modules: none needed.
#
#   usage: install.sh            (re-running is safe)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"

SOKETI_DIR="${SOKETI_DIR:-${TMPDIR:-/tmp}/soketi-peer}"
UWS_SPEC="${UWS_SPEC:-npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0}"

mkdir -p "$SOKETI_DIR"
cd "$SOKETI_DIR"

cat > package.json <<EOF
{
  "name": "soketi-peer",
  "private": true,
  "description": "soketi installed from the npm registry for side-by-side benchmarks",
  "dependencies": {
    "@soketi/soketi": "1.6.1",
    "pusher": "5.3.4",
    "pusher-js": "8.6.0",
    "laravel-echo": "2.5.0"
  },
  "overrides": {
    "uWebSockets.js": "$UWS_SPEC"
  }
}
EOF

npm install --no-audit --no-fund --loglevel=error

# Verify the native uWS binary is what soketi gets (not the JS fallback).
bash "$HERE/check-uws.sh" "$SOKETI_DIR"

echo "soketi $(node -p "require('$SOKETI_DIR/node_modules/@soketi/soketi/package.json').version") installed in $SOKETI_DIR"
