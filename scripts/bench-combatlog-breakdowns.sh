#!/usr/bin/env bash
# Issue 15's benchmarks (docs/benchmarks.md): parsing 1 GB of real raid logs with every breakdown on against the
# previous release, a gzip upload of it, and the breakdown endpoints at 16 connections.
# Usage: [PREVIOUS=commit] [ROUNDS=3] scripts/bench-combatlog-breakdowns.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export COMBATLOG=${COMBATLOG:-../shared/combatlog}
[ -d "$COMBATLOG/samples" ] || { echo "no $COMBATLOG/samples (set COMBATLOG)" >&2; exit 2; }
scripts/install-deps.sh python3 wrk curl time gzip
swift build -c release --product guildhall
exec python3 scripts/bench/combatlog_breakdowns_bench.py "$@"
