#!/usr/bin/env bash
# The plugin contract's benchmarks (docs/benchmarks.md): health beside a bare Hummingbird server answering the same
# JSON, the tickets list and encounters beside the previous release, 100 reloads under mixed load.
# PREVIOUS=<git revision> (default: the commit before the contract) is built into .build-previous once.
# Usage: scripts/bench-contract.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3-venv wrk curl
swift build -c release --product guildhall
swift build -c release --product hello-baseline
PREVIOUS=${PREVIOUS:-69a421f}
if [ ! -x .build-previous/checkout/.build/release/guildhall ]; then
  rm -rf .build-previous/checkout
  git worktree add -f .build-previous/checkout "$PREVIOUS"
  (cd .build-previous/checkout && swift build -c release --product guildhall)
fi
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check websocket-client==1.9.2
PREVIOUS_GUILDHALL=.build-previous/checkout/.build/release/guildhall exec "$VENV/bin/python" scripts/bench/contract_bench.py "$@"
