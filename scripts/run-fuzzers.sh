#!/usr/bin/env bash
# Runs each libFuzzer target of a fuzz build for SECONDS, starting from its seed corpus in
# fuzz/seeds/<name>/ and keeping what it finds in build/fuzz/corpus/<name>/.
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS}
seconds=${2:-60}
status=0
for bin in "$build"/fuzz/*_fuzz; do
  name=$(basename "$bin")
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/seeds/$name" ] && seeds=("fuzz/seeds/$name")
  echo "== $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -print_final_stats=1 "$corpus" "${seeds[@]}"; then
    echo "$name: FAILED (see the crash file above)"
    status=1
  fi
done
exit $status
