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
previous=$(scripts/bench/previous-build.sh "${PREVIOUS:-69a421f}")
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check websocket-client==1.9.2
PREVIOUS_GUILDHALL=$previous/.build/release/guildhall exec "$VENV/bin/python" scripts/bench/contract_bench.py "$@"
