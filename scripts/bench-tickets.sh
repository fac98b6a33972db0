#!/usr/bin/env bash
# The Tickets cog's benchmarks (docs/benchmarks.md), side by side with the Flask (the HazeBot document's stack) and
# FastAPI references of ../shared/bench on the same data (200 tickets x 20 messages, 50 users): authenticated
# GET /api/tickets with the shared tools/http_bench.sh, then send-to-delivery latency with 50 clients in a ticket
# room. Needs the shared bench folder beside the project (BENCH=path to override). Everything on 127.0.0.1.
# Usage: scripts/bench-tickets.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH=${BENCH:-../shared/bench}
[ -f "$BENCH/tools/http_bench.sh" ] || { echo "no $BENCH/tools/http_bench.sh (set BENCH)" >&2; exit 2; }
scripts/install-deps.sh python3-venv wrk curl
swift build -c release --product guildhall
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH/requirements.txt"
exec "$VENV/bin/python" scripts/bench/tickets_bench.py "$@"
