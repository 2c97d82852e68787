#!/usr/bin/env bash
# CVSS scoring rate of isms and of a peer (npm ae-cvss-calculator), in one run on this machine.
# Usage: scripts/bench-cvss-peer.sh BUILD_DIR   (needs node and npm; installs the peer into a
# temporary folder, never into the project)
set -euo pipefail
build=${1:?usage: bench-cvss-peer.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
(cd "$tmp" && npm init -y >/dev/null && npm install --silent ae-cvss-calculator@1.0.13 >/dev/null)
cp "$here/bench/cvss_peer.mjs" "$tmp/"
(cd "$tmp" && node cvss_peer.mjs)
"$build/bench/core_bench" --benchmark_filter='BM_ScoreCvssMixed' --benchmark_min_time=1
