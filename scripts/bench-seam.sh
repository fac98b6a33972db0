#!/usr/bin/env bash
# Issue 22's benchmarks (docs/benchmarks.md): health, the tickets list and an external cog's trivial route against the
# previous release, and health's server CPU beside a bare Hummingbird server, alternated in one run.
# PREVIOUS=<git revision> (default: the commit before the seam) is built into .build-previous (previous-build.sh).
# Usage: [ROUNDS=5] [PREVIOUS=...] scripts/bench-seam.sh
set -euo pipefail
cd "$(dirname "$0")/.."
extra=(python3-venv wrk)
command -v node >/dev/null || extra+=(nodejs)
scripts/install-deps.sh "${extra[@]}"
swift build -c release --product guildhall
swift build -c release --product hello-baseline
previous=$(scripts/bench/previous-build.sh "${PREVIOUS:-62a5d7c}")
# The contract benchmark's helpers, which this one reuses, import websocket-client.
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check websocket-client==1.9.2
PREVIOUS_GUILDHALL=$previous/.build/release/guildhall PREVIOUS_EXAMPLES=$previous/examples \
  exec "$VENV/bin/python" scripts/bench/seam_bench.py "$@"
