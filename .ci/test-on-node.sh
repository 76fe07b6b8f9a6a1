#!/usr/bin/env bash
# Runs `npm test` on another Node.js line (from the npm registry's `node` package, see
# with-node.sh) without touching this checkout's node_modules, which stay built for the
# machine's Node:
#
#   .ci/test-on-node.sh 26                                    # the whole suite
#   .ci/test-on-node.sh 26 -- test/unit test/e2e/ingest.test.ts  # arguments after -- go to vitest
#
# It copies the working tree (uncommitted changes included; not dist/, data/, test-results/)
# and node_modules to a temp folder, rebuilds better-sqlite3 there from source for that Node,
# runs the suite there, and removes the copy.
set -euo pipefail

if [ $# -lt 1 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <node major version, e.g. 26> [-- vitest args...]" >&2
  exit 2
fi
major="$1"
shift
[ "${1:-}" = "--" ] && shift

root="$(cd "$(dirname "$0")/.." && pwd)"
ci="$root/.ci"
copy="$(mktemp -d "${TMPDIR:-/tmp}/hookrelay-node$major-XXXXXX")"
trap 'rm -rf "$copy"' EXIT

tar -C "$root" --exclude=./.git --exclude=./node_modules --exclude=./dist --exclude=./data --exclude=./test-results -cf - . | tar -C "$copy" -xf -
cp -a "$root/node_modules" "$copy/node_modules"
cd "$copy"

# prebuild-install would download a binary from GitHub; compile against with-node's headers instead.
npm_config_build_from_source=true "$ci/with-node.sh" "$major" npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error
"$ci/with-node.sh" "$major" node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"
"$ci/with-node.sh" "$major" npm test -- "$@"
