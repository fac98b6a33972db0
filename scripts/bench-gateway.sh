#!/usr/bin/env bash
# The gateway's benchmarks (docs/benchmarks.md), side by side with the FastAPI reference of the design documents:
# WebSocket fan-out with ../shared/bench/tools/ws_fanout.py, then history and search over 100,000 stored messages.
# Needs the shared bench folder beside the project (BENCH=path to override). Everything runs on 127.0.0.1, bounded.
# Usage: scripts/bench-gateway.sh [clients] [messages] [rate]
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/bench}
CLIENTS=${1:-1000} MESSAGES=${2:-500} RATE=${3:-100}
[ -f "$BENCH/tools/ws_fanout.py" ] || { echo "no $BENCH/tools/ws_fanout.py (set BENCH)" >&2; exit 2; }
scripts/install-deps.sh python3-venv curl
swift build -c release --product guildhall
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r "$BENCH/requirements.txt"

work=$(mktemp -d /tmp/guildhall-gateway-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n 16384 || true
export API_ADMIN_USER=admin API_ADMIN_PASS=bench-admin-password API_JWT_SECRET=bench-jwt-secret-not-for-production

printf 'logging:\n  level: warning\nplugins:\n  enabled: []\ngateway:\n  max_connections_per_ip: 5000\n  messages_per_minute: 100000\n' >"$work/config.yaml"
DB_PATH="$work/guildhall.sqlite" API_PORT=18190 .build/release/guildhall serve --config "$work/config.yaml" >"$work/guildhall.log" 2>&1 &
pids+=($!)
(cd "$BENCH/fastapi_ref" && API_DB_PATH="$work/fastapi.db" exec "$OLDPWD/$VENV/bin/uvicorn" app:app --host 127.0.0.1 --port 18191 \
  --workers 1 --no-access-log --log-level warning >"$work/fastapi.log" 2>&1) &
pids+=($!)
for port in 18190 18191; do
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
done

echo "== fan-out: $CLIENTS clients, $MESSAGES messages at $RATE/s (load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "-- guildhall"
"$VENV/bin/python" "$BENCH/tools/ws_fanout.py" --url ws://127.0.0.1:18190/ws/live-log --ws-token --type user --decoy-type system \
  --extra-json '{"user_id":"bench","username":"bench"}' --clients "$CLIENTS" --messages "$MESSAGES" --rate "$RATE" --max-seconds 120 \
  | grep -E "RESULT|latency|tool:|WARNING" || true
echo "-- fastapi reference (1 worker)"
"$VENV/bin/python" "$BENCH/tools/ws_fanout.py" --url ws://127.0.0.1:18191/ws/live-log --clients "$CLIENTS" --messages "$MESSAGES" \
  --rate "$RATE" --max-seconds 120 | grep -E "RESULT|latency|tool:|WARNING" || true

echo "== history and search over 100,000 messages"
token=$(curl -fs -X POST http://127.0.0.1:18190/api/auth/login -d "{\"username\":\"admin\",\"password\":\"$API_ADMIN_PASS\"}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$VENV/bin/python" scripts/bench/live_log_queries.py --db "$work/guildhall.sqlite" --url ws://127.0.0.1:18190/ws/live-log --token "$token"
