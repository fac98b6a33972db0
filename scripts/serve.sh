#!/usr/bin/env bash
# Installs what is missing, builds Guildhall in release mode and serves the default deployment (config.yaml:
# port 5070, SQLite at ./data/guildhall.sqlite). Set API_ADMIN_PASS (and API_ADMIN_USER, default "admin") to
# create the admin user on first start. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product guildhall
exec .build/release/guildhall serve --config config.yaml "$@"
