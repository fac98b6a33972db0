#!/usr/bin/env bash
# The host's benchmarks (docs/benchmarks.md): health throughput beside a bare Hummingbird hello-world, cog reload
# latency under load, cold start and idle memory. Everything runs on 127.0.0.1, bounded in time.
# Usage: scripts/bench.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh wrk curl
swift build -c release --product guildhall
swift build -c release --product hello-baseline
exec python3 scripts/bench/host_bench.py "$@"
