#!/usr/bin/env bash
# Installs what is missing, builds Guildhall and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Python and Node run the external cog examples and test cogs; Node comes from Debian where it is not already there.
extra=(python3-venv)
command -v node >/dev/null || extra+=(nodejs)
scripts/install-deps.sh "${extra[@]}"
# The real third-party peers some tests talk to (python-socketio for the Socket.IO transport).
[ -x .test-venv/bin/python ] || python3 -m venv .test-venv
.test-venv/bin/pip install -q --disable-pip-version-check -r Tests/Peers/requirements.txt
# The Python SDK's and the tournaments example's own tests (standard library only).
.test-venv/bin/python -m unittest discover -s sdk/python -p 'test_*.py'
(cd examples/tournaments && ../../.test-venv/bin/python -m unittest test_tournaments)
swift build --build-tests
# The suite takes a few minutes. A few times in many runs it hung: the server's graceful shutdown waited on a
# WebSocket a test had left open, or on the test framework's client connecting after it had been closed (TestHost
# now prevents both). Should a run still pass 10 minutes, the processes this script started are killed by PID (the
# test process `swift test` runs takes SIGTERM as a graceful shutdown of the server it is stuck in, so SIGKILL), the
# test it hung in is named, and the suite runs once more; a failing test fails at once. Output is line-buffered so
# the log names the last test begun.
descendants() {
  local child
  for child in $(pgrep -P "$1"); do
    descendants "$child"
    echo "$child"
  done
}
suite() {
  set +e
  stdbuf -oL -eL swift test --skip-build --disable-swift-testing > >(tee .build/test-run.log) 2>&1 &
  local pid=$! waited=0 status
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "${SUITE_TIMEOUT:-600}" ]; do
    sleep 1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    # shellcheck disable=SC2046 # one PID a word
    kill -9 $(descendants "$pid") "$pid" 2>/dev/null
    wait "$pid"
    status=124
    echo "The suite hung; the last test started: $(grep -o "Test Case '[^']*' started" .build/test-run.log | tail -1)" >&2
  else
    wait "$pid"
    status=$?
  fi
  set -e
  return "$status"
}
suite || { status=$?; [ "$status" = 124 ] || exit "$status"; echo "Running the suite once more." >&2; suite; }
# The third-party cog example, a package of its own built against this checkout. It shares the build folder, so
# the dependencies it has in common with Guildhall are not built twice (27 s instead of minutes).
swift build --package-path examples/third-party-cog --scratch-path .build --build-tests
swift test --package-path examples/third-party-cog --scratch-path .build --skip-build --disable-swift-testing
