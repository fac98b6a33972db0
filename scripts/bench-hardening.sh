#!/usr/bin/env bash
# Issue 21's benchmark (docs/benchmarks.md): GET /api/health p99 while two gzip bombs parse at once, against the same
# server idle. PREVIOUS=path/to/guildhall adds an earlier release build, measured in the same run, alternated.
# Usage: [ROUNDS=3] [BOMB_MIB=1024] [PREVIOUS=...] scripts/bench-hardening.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3 wrk
swift build -c release --product guildhall
exec python3 scripts/bench/hardening_bench.py "$@"
