#!/usr/bin/env bash
# Issue 14's benchmarks (docs/benchmarks.md): a trivial external route beside the same route in process, an external
# cog back in service after a crash, and reloads under load. Usage: [ROUNDS=5] [SAMPLES=20] scripts/bench-external.sh
set -euo pipefail
cd "$(dirname "$0")/.."
extra=(python3 wrk)
command -v node >/dev/null || extra+=(nodejs)
scripts/install-deps.sh "${extra[@]}"
swift build -c release --product bench-external
exec python3 scripts/bench/external_bench.py "$@"
