#!/usr/bin/env bash
# Issue 11's benchmark (docs/benchmarks.md): a cached Rocket League stats lookup against GET /api/health on the same
# server, a fake Tracker Network on 127.0.0.1 behind it. Usage: [ROUNDS=5] scripts/bench-outbound.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3 wrk
swift build -c release --product guildhall
exec python3 scripts/bench/outbound_bench.py "$@"
