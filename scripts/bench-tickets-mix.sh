#!/usr/bin/env bash
# The ticket list under a realistic mix (one message per 20 list reads) against the Flask and FastAPI references of
# ../shared/bench, and the plain list against a previous build (PREVIOUS_GUILDHALL=path/to/guildhall, optional).
# See scripts/bench/tickets_mix_bench.py and docs/benchmarks.md. Everything on 127.0.0.1.
# Usage: [PREVIOUS_GUILDHALL=...] scripts/bench-tickets-mix.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH=${BENCH:-../shared/bench}
[ -f "$BENCH/flask_ref/app.py" ] || { echo "no $BENCH/flask_ref (set BENCH)" >&2; exit 2; }
scripts/install-deps.sh python3-venv wrk curl
swift build -c release --product guildhall
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH/requirements.txt"
exec "$VENV/bin/python" scripts/bench/tickets_mix_bench.py "$@"
