#!/usr/bin/env bash
# Builds git revision $1 in release mode into .build-previous/checkout once (a worktree; a different revision
# replaces it) and prints the folder of its checkout, for benchmarks that compare a previous build with this one.
set -euo pipefail
cd "$(dirname "$0")/../.."
revision=$(git rev-parse --verify "$1^{commit}")
checkout=.build-previous/checkout
if [ "$(git -C "$checkout" rev-parse HEAD 2>/dev/null || true)" != "$revision" ] || [ ! -x "$checkout/.build/release/guildhall" ]; then
  git worktree remove --force "$checkout" 2>/dev/null || rm -rf "$checkout"
  git worktree add -f "$checkout" "$revision" >&2
  (cd "$checkout" && swift build -c release --product guildhall >&2)
fi
echo "$PWD/$checkout"
