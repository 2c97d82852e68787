#!/usr/bin/env bash
# Runs every test of a build tree: the unit, contract and integration tests registered with
# CTest, with a throwaway PostgreSQL cluster so that the storage contract suite runs on both
# engines (it fails rather than skips when PostgreSQL is missing).
# Usage: scripts/run-tests.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: run-tests.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TZ=UTC
"$here/with-pg.sh" ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
