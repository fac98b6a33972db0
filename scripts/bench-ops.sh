#!/usr/bin/env bash
# Issue 12's benchmarks (docs/benchmarks.md): the analytics middleware on and off in one run, and how fast signing
# out and deleting a user close their gateway connections. Usage: [ROUNDS=5] [SAMPLES=50] scripts/bench-ops.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3 python3-venv wrk
[ -x .bench-venv/bin/python ] || python3 -m venv .bench-venv
.bench-venv/bin/pip install -q --disable-pip-version-check websockets==15.0.1
swift build -c release --product guildhall
exec .bench-venv/bin/python scripts/bench/ops_bench.py "$@"
