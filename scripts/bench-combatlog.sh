#!/usr/bin/env bash
# The CombatLog cog's benchmarks (docs/benchmarks.md): parse throughput on one core and peak memory against file
# size, a 1 GB upload through HTTP until every encounter is stored, and GET /api/v1/encounters with 10,000
# encounters across 100 guilds. The logs are the real ones of ../shared/combatlog/samples (COMBATLOG=path to
# override), concatenated; the project itself does not depend on them. Everything runs on 127.0.0.1.
# Usage: scripts/bench-combatlog.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
export COMBATLOG=${COMBATLOG:-../shared/combatlog}
[ -d "$COMBATLOG/samples" ] || { echo "no $COMBATLOG/samples (set COMBATLOG)" >&2; exit 2; }
scripts/install-deps.sh wrk curl time
swift build -c release --product guildhall
exec python3 scripts/bench/combatlog_bench.py "$@"
