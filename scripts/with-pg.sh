#!/usr/bin/env bash
# Runs CMD with a throwaway PostgreSQL cluster: starts it (scripts/pg-test-cluster.sh), exports
# ISMS_TEST_POSTGRES_URL and ISMS_REQUIRE_POSTGRES=1, runs CMD, always stops and removes the
# cluster, and exits with CMD's status.
#   scripts/with-pg.sh ctest --test-dir build/release --output-on-failure
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: with-pg.sh CMD [ARGS...]" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

exports=$("$here/pg-test-cluster.sh" start)
eval "$exports"
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { "$here/pg-test-cluster.sh" stop "$ISMS_PG_CLUSTER_DIR" || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export ISMS_REQUIRE_POSTGRES=1

set +e
"$@"
status=$?
set -e
exit "$status"
