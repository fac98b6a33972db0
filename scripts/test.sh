#!/usr/bin/env bash
# Installs what is missing, builds Guildhall and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3-venv
# The real third-party peers some tests talk to (python-socketio for the Socket.IO transport).
[ -x .test-venv/bin/python ] || python3 -m venv .test-venv
.test-venv/bin/pip install -q --disable-pip-version-check -r Tests/Peers/requirements.txt
swift build --build-tests
swift test --skip-build --disable-swift-testing
# The third-party cog example, a package of its own built against this checkout. It shares the build folder, so
# the dependencies it has in common with Guildhall are not built twice (27 s instead of minutes).
swift build --package-path examples/third-party-cog --scratch-path .build --build-tests
swift test --package-path examples/third-party-cog --scratch-path .build --skip-build --disable-swift-testing
