#!/usr/bin/env bash
# Runs the benchmarks of a build tree and prints the machine they ran on.
# Usage: scripts/run-bench.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: run-bench.sh BUILD_DIR}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
"$build/bench/core_bench" --benchmark_min_time=0.5
