#!/usr/bin/env bash
# The scanner-import benchmark, run by hand (never by `make test`): generates a Nessus file and a
# Trivy JSON report of FINDINGS findings over HOSTS hosts (bench/gen_scans), imports each into a
# fresh store on SQLite and on PostgreSQL (a throwaway cluster from scripts/pg-test-cluster.sh,
# its write-ahead log warmed first as a running server's is),
# and times every step under /usr/bin/time -v:
#
#   first import            the first scan, into an empty contract
#   re-import (later scan)  a second scan of the same findings four weeks later (a real re-import:
#                           every finding is seen again, last_seen moves)
#   re-import (same file)   the second file again (recognised by its sha256: nothing changes)
#   report monthly          `isms report monthly` of the second scan's month, over both scanners'
#                           findings, in each format (json, csv, html; to /dev/null)
#   report issue            `isms report issue` of the first scan's month (renders and stores its
#                           HTML and JSON, records report.submitted); the report steps are skipped
#                           when the build has no report command
#
# Builds nothing. Prints a Markdown table (engine, format, step, seconds, CPU seconds of isms
# (user + system, all its threads: less sensitive than wall time to other work on the machine),
# CPU seconds of the PostgreSQL server (its processes, for that step), findings/s, MB/s, peak RSS
# MB, input MB, load average) for docs/benchmarks.md. MB are MiB (2^20 bytes); rates are per
# wall-clock second.
#
# Usage: scripts/bench-import.sh BUILD_DIR [--hosts N] [--findings M] [--engines "sqlite postgres"]
#                                          [--keep]
#   BUILD_DIR  a release build with the targets isms and gen_scans, e.g. build/bench:
#              cmake --preset release -B build/bench && cmake --build build/bench --target gen_scans isms
#   --keep     keep the temporary folder (reports, stores, logs) and print its path
# Needs GNU time (/usr/bin/time; Debian package `time`) and, for PostgreSQL, the server binaries.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: bench-import.sh BUILD_DIR [--hosts N] [--findings M] [--engines LIST] [--keep]}
shift
hosts=5000
findings=200000
engines="sqlite postgres"
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --hosts) hosts=$2; shift 2 ;;
    --findings) findings=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "bench-import: unknown option $1" >&2; exit 2 ;;
  esac
done

isms=$build/src/cli/isms
gen=$build/bench/gen_scans
for b in "$isms" "$gen"; do
  [[ -x $b ]] || {
    echo "bench-import: $b is missing: cmake --build $build --target gen_scans isms" >&2
    exit 1
  }
done
[[ -x /usr/bin/time ]] || {
  echo "bench-import: /usr/bin/time (GNU time) is missing: install it with 'apt-get install time'" >&2
  exit 1
}

work=$(mktemp -d /tmp/isms-bench-import.XXXXXX)
pg_dir=""
cleanup() {
  if [[ -n $pg_dir ]]; then "$here/pg-test-cluster.sh" stop "$pg_dir" || true; fi
  if [[ $keep == 1 ]]; then echo "bench-import: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Scan times: a first scan in early October, the second four weeks later; the report is of the
# second scan's month.
first_at=2026-10-05T08:00:00Z
second_at=2026-11-02T08:00:00Z
month=2026-11
first_month=2026-10
seed=20261005

log() { echo "bench-import: $*" >&2; }

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
log "generating $findings findings over $hosts hosts in $work"
for fmt in nessus trivy; do
  ext=$([[ $fmt == nessus ]] && echo nessus || echo json)
  # Trivy: an empty ClusterName keeps one asset per image (see docs/benchmarks.md).
  extra=()
  [[ $fmt == trivy ]] && extra=(--cluster "")
  for n in 1 2; do
    at=$([[ $n == 1 ]] && echo $first_at || echo $second_at)
    t0=$(date +%s.%N)
    "$gen" --format "$fmt" --hosts "$hosts" --findings "$findings" --seed "$seed" \
      --scan-time "$at" -o "$work/$fmt-$n.$ext" "${extra[@]}"
    t1=$(date +%s.%N)
    log "$(basename "$work/$fmt-$n.$ext"): $(du -m "$work/$fmt-$n.$ext" | cut -f1) MiB in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
  done
done

have_report=0
if "$isms" report monthly --help 2>/dev/null | grep -q -- '--month'; then have_report=1; fi

printf '| engine | format | step | seconds | CPU s | server CPU s | findings/s | MB/s | peak RSS MB | input MB | load avg |\n'
printf '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n'

# Runs "$@" under GNU time; prints "SECONDS RSS_KB EXIT CPU_SECONDS"; the command's output goes
# to the file $1.
timed() {
  local out=$1
  shift
  local rc=0
  /usr/bin/time -v -o "$out.time" "$@" >"$out" 2>&1 || rc=$?
  local wall rss cpu
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s + 0}' "$out.time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time")
  # h:mm:ss or m:ss.ss -> seconds
  wall=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  echo "$wall ${rss:-0} $rc $cpu"
}

row() {  # engine format step seconds findings bytes rss_kb load cpu_seconds server_cpu_seconds
  local engine=$1 fmt=$2 step=$3 secs=$4 n=$5 bytes=$6 rss=$7 load=$8 cpu=$9 server=${10}
  awk -v e="$engine" -v f="$fmt" -v s="$step" -v t="$secs" -v n="$n" -v b="$bytes" -v r="$rss" \
    -v l="$load" -v c="$cpu" -v sc="$server" 'BEGIN {
      mb = b / 1048576
      fps = (n > 0 && t > 0) ? sprintf("%d", n / t) : "–"
      mbs = (b > 0 && t > 0) ? sprintf("%.0f", mb / t) : "–"
      in_mb = b > 0 ? sprintf("%.0f", mb) : "–"
      server = sc == "" ? "–" : sprintf("%.2f", sc)
      printf "| %s | %s | %s | %.2f | %.2f | %s | %s | %s | %.0f | %s | %s |\n", e, f, s, t, c, server, fps, mbs, r / 1024, in_mb, l
    }'
}

note_row() { printf '| %s | %s | %s | %s | | | | | | | |\n' "$1" "$2" "$3" "$4"; }

# CPU seconds used so far by the throwaway PostgreSQL cluster: its postmaster, its live
# processes, and those that have ended (their time is added to the postmaster's children's).
server_cpu() {
  [[ -n $pg_dir ]] || return 0
  local pm ticks
  pm=$(head -1 "$pg_dir/data/postmaster.pid" 2>/dev/null) || return 0
  ticks=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}

load_now() { cut -d' ' -f1-3 /proc/loadavg; }

for engine in $engines; do
  case $engine in
    sqlite) store="sqlite:$work/sqlite/isms.db" ;;
    postgres)
      log "starting a throwaway PostgreSQL cluster"
      eval "$("$here/pg-test-cluster.sh" start)"
      pg_dir=$ISMS_PG_CLUSTER_DIR
      store=$ISMS_TEST_POSTGRES_URL
      # The cluster's write-ahead log as a server that has been running has it: a new cluster
      # writes 16 MiB of zeros into each log segment the first time it is needed, in the backend
      # that needs it, where a running server reuses the segments of earlier checkpoints (the
      # Trivy first import, 2026-11-29: 3.55-3.78 s on a new cluster, 3.09-3.27 s with the
      # segments ready). About 1.4 GB of log is written and checkpointed before any timing, and
      # min_wal_size keeps 1 GB of segments for reuse (max_wal_size, PostgreSQL's default 1 GB,
      # is unchanged).
      log "warming the cluster's write-ahead log"
      psql -q "$store" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
ALTER SYSTEM SET min_wal_size = '1GB';
SELECT pg_reload_conf();
CREATE TABLE isms_wal_warmup AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 6000000) g;
DROP TABLE isms_wal_warmup;
CHECKPOINT;
SQL
      # A PostgreSQL store keeps no files: the audit signing key goes here.
      export ISMS_KEY_DIR=$work/postgres-keys
      ;;
    *) echo "bench-import: unknown engine $engine (sqlite, postgres)" >&2; exit 2 ;;
  esac
  "$isms" init --store "$store" >/dev/null
  "$isms" contract create bench --start 2026-01-05 --buyer "Benchmark Office" --store "$store" >/dev/null
  for fmt in nessus trivy; do
    ext=$([[ $fmt == nessus ]] && echo nessus || echo json)
    k=0
    for step in "first import:1" "re-import (later scan):2" "re-import (same file):2"; do
      k=$((k + 1))
      name=${step%%:*}
      file=$work/$fmt-${step##*:}.$ext
      out=$work/$engine-$fmt-step$k.out
      bytes=$(stat -c %s "$file")
      load=$(load_now)
      s0=$(server_cpu)
      read -r secs rss rc cpu < <(timed "$out" \
        "$isms" import scan "$file" --contract bench --quiet --store "$store")
      sleep 0.2  # the server process of the connection ends after isms
      server=$(awk -v a="$s0" -v b="$(server_cpu)" 'BEGIN {if (a != "") printf "%.2f", b - a}')
      if [[ $rc != 0 ]]; then
        note_row "$engine" "$fmt" "$name" "failed (exit $rc): $(tail -1 "$out")"
        continue
      fi
      log "$engine $fmt $name: $(tail -1 "$out")"
      row "$engine" "$fmt" "$name" "$secs" "$findings" "$bytes" "$rss" "$load" "$cpu" "$server"
    done
  done
  if [[ $have_report == 1 ]]; then
    # Each format of the preview, then the issue of the previous Month (which stores its HTML and
    # JSON and records report.submitted: last, as it changes the store).
    for report in json csv html issue; do
      if [[ $report == issue ]]; then
        step="report issue $first_month"
        cmd=("$isms" report issue --contract bench --month "$first_month" --store "$store")
      else
        step="report monthly $month"
        [[ $report != json ]] && step="$step --format $report"
        cmd=("$isms" report monthly --contract bench --month "$month" --format "$report" -o /dev/null
          --store "$store")
      fi
      load=$(load_now)
      s0=$(server_cpu)
      read -r secs rss rc cpu < <(timed "$work/$engine-report-$report.out" "${cmd[@]}")
      sleep 0.2
      server=$(awk -v a="$s0" -v b="$(server_cpu)" 'BEGIN {if (a != "") printf "%.2f", b - a}')
      if [[ $rc != 0 ]]; then
        note_row "$engine" "both" "$step" "failed (exit $rc): $(tail -1 "$work/$engine-report-$report.out")"
      else
        row "$engine" "both" "$step" "$secs" 0 0 "$rss" "$load" "$cpu" "$server"
      fi
    done
  else
    note_row "$engine" "both" "report monthly" "not measured: report command missing"
  fi
  if [[ $engine == postgres ]]; then
    "$here/pg-test-cluster.sh" stop "$pg_dir"
    pg_dir=""
  fi
done
