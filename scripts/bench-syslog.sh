#!/usr/bin/env bash
# Syslog ingest, isms against rsyslog, in one run on this machine: the same COUNT RFC 5424
# records (bench/syslog_send) over one TCP connection, octet-counted, to
#   - bench/syslog_sink, which only reads them: the floor, what the transport alone costs
#     (the sender's loopback TCP and the reader's copies out of the kernel),
#   - rsyslogd (Debian package rsyslog; imtcp to omfile, the raw message per line), and
#   - isms serve --syslog-tcp (parse, classify, Merkle tree, zstd chunks, signed checkpoints).
# Each rate runs from the first byte sent to the last record on disk: for rsyslog until the
# output file holds all COUNT messages (polled by size); for isms until the server, sent SIGTERM
# after the last byte, prints that it has committed everything (its exit is printed too). The
# sender renders all records before it connects and prints when it began sending ("start T"):
# the clock starts there, for both receivers. The CPU
# time of each receiver is printed too (the machine may be shared), and the sender's while it
# sent; for isms, each of its threads' (the syslog reader is the main thread, "isms"; the
# threads that parse and classify are "syslog-prepare"). Then: bytes on disk per
# record, `isms audit verify`, the per-record cost of each stage (bench/audit_bench prepare), and
# `isms audit search --host` over one day, p50 and p90 of 21 hosts (whole command). With
# SEARCH_STORE=URL SEARCH_DAY=YYYY-MM-DD, the search is measured on that store too (e.g. one
# that `audit_bench fill` made of 100 million records).
# With RUNS=N, rsyslog and isms are run in turn N times and the medians printed (this machine's
# speed varies from minute to minute); verify, the stages and search are measured once. Each
# receiver starts after a `sync`, and rsyslog's output file is removed once measured, so that
# neither run pays for the kernel writing back what the other wrote; each receiver's CPU counts
# from its first record; the program that watches for the end (bench/wait_for) is running before
# the sender starts, so that no process is started while a receiver finishes.
# Builds nothing; run by hand (never by `make test`).
# Usage: [RUNS=N] scripts/bench-syslog.sh BUILD_DIR [COUNT]
#   BUILD_DIR: a release build with the targets isms, syslog_send, syslog_sink and audit_bench.
set -euo pipefail
build=${1:?usage: bench-syslog.sh BUILD_DIR [COUNT]}
count=${2:-1000000}
isms=$build/src/cli/isms
send=$build/bench/syslog_send
sink=$build/bench/syslog_sink
audit_bench=$build/bench/audit_bench
wait_for=$build/bench/wait_for
command -v rsyslogd >/dev/null || { echo "bench-syslog: install rsyslog (apt-get install rsyslog)" >&2; exit 1; }
tmp=$(mktemp -d)
rs=
srv=
cleanup() {
  [ -n "$rs" ] && kill "$rs" 2>/dev/null || true
  [ -n "$srv" ] && kill "$srv" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# The time of day in seconds, read without starting a process (bash 5's EPOCHREALTIME, with a
# point for the decimals): a `date` at each end of a timing added 14-16 ms to every command timed
# on a machine whose processes are slow to start (docs/benchmarks.md, run 32).
LC_NUMERIC=C
py() { python3 -c "print($1)"; }
# user+system CPU seconds of a process so far
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -x "$audit_bench" ] && echo "hashes:  $("$audit_bench" hash-path) (audit/sha256_lanes.h's path on this CPU)"
echo "records: $count over one TCP connection"

# "TID NAME SECONDS" for each thread of a process: its user+system CPU so far (a thread that
# ends between the listing and the reading is left out, not an error)
thread_cpu() {
  awk '{tid = $1; sub(/^[^(]*\(/, ""); n = $0; sub(/\).*/, "", n); sub(/^.*\) /, "");
        printf "%s %s %.2f\n", tid, n, ($12 + $13) / 100}' /proc/"$1"/task/*/stat 2>/dev/null || true
}
sender_cpu() { sed -n 's/.*s, \([0-9.]*\) s of CPU (\([0-9.]*\) us a record).*/\1 s = \2 us a record/p' "$1"; }

# The floor: a receiver that only reads
mkdir -p "$tmp/sink"
"$sink" 0 >"$tmp/sink/out" &
sk=$!
for _ in $(seq 100); do grep -qs '^listening' "$tmp/sink/out" && break; sleep 0.05; done
"$send" 127.0.0.1 "$(sed -n 's/^listening //p' "$tmp/sink/out")" "$count" >"$tmp/sink/send.txt"
wait "$sk"
t0=$(sed -n 's/^start //p' "$tmp/sink/send.txt")
t1=$(sed -n 's/^end \([0-9.]*\) .*/\1/p' "$tmp/sink/out")
sk_cpu=$(sed -n 's/.* cpu \([0-9.]*\)$/\1/p' "$tmp/sink/out")
echo "floor:   a receiver that only reads: $(py "round($t1-$t0,3)") s = $(py "round($count/($t1-$t0))") records/s (its CPU $sk_cpu s; the sender's $(sender_cpu "$tmp/sink/send.txt"))"
# The bytes of the COUNT messages (the sender sends the same ones each time): rsyslog's file holds
# them and a newline each when it has everything.
msg_bytes=$(sed -n 's/.*(\([0-9]*\) message bytes).*/\1/p' "$tmp/sink/send.txt")

# rsyslog: one run, from a fresh output file
run_rsyslog() {
  rm -rf "$tmp/rs"
  mkdir -p "$tmp/rs"
  port=$(free_port)
  cat >"$tmp/rs/rsyslog.conf" <<CONF
global(workDirectory="$tmp/rs")
module(load="imtcp")
input(type="imtcp" port="$port" address="127.0.0.1")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$tmp/rs/out.log" template="raw")
CONF
  sync  # neither receiver's run pays for writing back what the one before it wrote
  rsyslogd -n -f "$tmp/rs/rsyslog.conf" -i "$tmp/rs/pid" &
  rs=$!
  sleep 1
  # Done when the file holds every message and its newline: its size, polled every millisecond by
  # bench/wait_for (counting its lines, wc -l, took about a third of a core from rsyslog while it
  # ran; a shell loop of stat and sleep every 10 ms, a few ms of CPU each time). Started before
  # the sender (for both receivers), so that no process is started while the receiver finishes.
  "$wait_for" size "$tmp/rs/out.log" "$((msg_bytes + count))" >"$tmp/rs/wait.txt" &
  wf=$!
  "$send" 127.0.0.1 "$port" "$count" >"$tmp/rs/send.txt"
  wait "$wf"
  t0=$(sed -n 's/^start //p' "$tmp/rs/send.txt")
  t1=$(sed -n 's/^end //p' "$tmp/rs/wait.txt")
  rs_cpu=$(cpu "$rs")
  kill "$rs"; wait "$rs" 2>/dev/null || true
  rs=
  raw=$(stat -c %s "$tmp/rs/out.log")
  # Removed at once: its 156 MB (at a million records) not yet written back would otherwise be
  # written while isms runs.
  rm -f "$tmp/rs/out.log"
  rs_rate=$(py "round($count/($t1-$t0))")
  echo "rsyslog: $(py "round($t1-$t0,2)") s = $rs_rate records/s (CPU $rs_cpu s = $(py "round($rs_cpu*1e6/$count,2)") us a record; the sender's $(sender_cpu "$tmp/rs/send.txt")); output file $raw bytes ($(py "round($raw/$count,1)") bytes/record)"
}

# isms: one run, into a fresh store
run_isms() {
  rm -rf "$tmp/isms"
  mkdir -p "$tmp/isms"
  store="sqlite:$tmp/isms/isms.db"
  "$isms" init --store "$store" >/dev/null
  "$isms" contract create bench --start 2026-11-01 --store "$store" >/dev/null
  port=$(free_port)
  "$isms" serve --syslog-tcp "127.0.0.1:$port" --listen none --contract bench --store "$store" >"$tmp/isms/serve.out" 2>&1 &
  srv=$!
  for _ in $(seq 100); do grep -qs '^listening' "$tmp/isms/serve.out" && break; sleep 0.05; done
  sync
  # What the server spent before the first record (opening the store, reserving its memory:
  # --syslog-memory) is left out of its CPU below, as rsyslog's start is.
  is_cpu0=$(cpu "$srv")
  thread_cpu "$srv" >"$tmp/isms/threads0"
  # The rate runs to the stop line, which the server prints once its last commit is done (every
  # record durable, as rsyslog's are when its file holds them); bench/wait_for polls for it every
  # millisecond, and reads the server's CPU time and its threads' every 10 ms until it exits (read
  # while it is a zombie, its CPU time would be lost). It is started before the sender and begins
  # when the file `go` appears: once the sender is done, the shell sends SIGTERM and creates `go`
  # (both builtins), starting no process while the server finishes. The server's exit, after it
  # freed its memory and closed the store, is printed too.
  "$wait_for" line "$tmp/isms/serve.out" 'isms serve: stopped:' "$srv" "$tmp/isms/go" >"$tmp/isms/wait.txt" &
  wf=$!
  "$send" 127.0.0.1 "$port" "$count" >"$tmp/isms/send.txt"
  kill -TERM "$srv"
  : >"$tmp/isms/go"
  wait "$wf" || true
  wait "$srv" || true
  t0=$(sed -n 's/^start //p' "$tmp/isms/send.txt")
  srv=
  t_exit=$EPOCHREALTIME
  t1=$(sed -n 's/^end //p' "$tmp/isms/wait.txt")
  [ -z "$t1" ] && t1=$t_exit
  is_cpu=$(awk '/^cpu / {b = $2} END {print b + 0}' "$tmp/isms/wait.txt")
  sed -n 's/^thread //p' "$tmp/isms/wait.txt" >"$tmp/isms/threads"
  is_rate=$(py "round($count/($t1-$t0))")
  disk=$(du -cb "$tmp"/isms/isms-audit.db* | tail -1 | cut -f1)
  is_cpu=$(py "round($is_cpu-$is_cpu0,2)")
  echo "isms:    $(py "round($t1-$t0,2)") s to the last commit (exit at $(py "round($t_exit-$t0,2)") s) = $is_rate records/s (CPU at least $is_cpu s = $(py "round($is_cpu*1e6/$count,2)") us a record; $is_cpu0 s before the first record); audit store $disk bytes ($(py "round($disk/$count,1)") bytes/record, $(py "round($disk/$raw,3)") x the raw size)"
  # each thread's last reading, summed by name: the writer's helpers (a second thread for each
  # large append, named after it) end within the run, and the CPU of one that ended between two
  # readings is missing from its name's sum (the process's CPU above includes it)
  # (less each thread's CPU before the first record)
  is_threads=$(awk 'FNR == NR {before[$1] = $3; next} {cpu[$1] = $3 - before[$1]; name[$1] = $2} END {for (t in cpu) sum[name[t]] += cpu[t]; for (n in sum) printf "%s %.2f s = %.2f us a record, ", n, sum[n], sum[n] * 1e6 / '"$count"'}' "$tmp/isms/threads0" "$tmp/isms/threads" | sed 's/, $//')
  echo "         CPU of isms's threads (the syslog reader is the main thread, isms; syslog-prepare the preparers; syslog-writer with its helpers): $is_threads; the sender's $(sender_cpu "$tmp/isms/send.txt")"
}

# RUNS=N (default 1) runs rsyslog and isms in turn N times: this machine's speed changes from
# minute to minute, so that both meet the same spells; the medians are printed after the runs.
runs=${RUNS:-1}
rs_rates=() is_rates=() ratios=()
for run in $(seq "$runs"); do
  [ "$runs" -gt 1 ] && echo "run $run of $runs"
  run_rsyslog
  run_isms
  echo "ratio:   isms / rsyslog = $(py "round($is_rate/$rs_rate,2)")"
  rs_rates+=("$rs_rate") is_rates+=("$is_rate") ratios+=("$(py "$is_rate/$rs_rate")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; print m}'; }
if [ "$runs" -gt 1 ]; then
  echo "medians of $runs runs: rsyslog $(median "${rs_rates[@]}") records/s, isms $(median "${is_rates[@]}") records/s, ratio $(py "round($(median "${ratios[@]}"),2)") (each run's: ${ratios[*]})"
fi
v0=$EPOCHREALTIME; "$isms" audit verify --contract bench --store "$store" | grep "^OK"; v1=$EPOCHREALTIME
echo "verify:  $(py "round($v1-$v0,2)") s = $(py "round($count/($v1-$v0))") records/s (whole command)"
[ -x "$audit_bench" ] && echo "stages:  $("$audit_bench" prepare 200000)"

# p50 and p90 of `search --host` over one day, 21 hosts, whole command
search_p() {
  local store=$1 day=$2 next times=()
  next=$(date -u -d "$day + 1 day" +%F)
  for h in $(seq 7 47 947); do
    s0=$EPOCHREALTIME
    n=$("$isms" audit search --contract bench --store "$store" --host "host-$h" --from "${day}T00:00:00Z" --to "${next}T00:00:00Z" --count)
    s1=$EPOCHREALTIME
    times+=("$(py "round(($s1-$s0)*1000,1)")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$n" '{a[NR]=$1} END {printf "p50 %s ms, p90 %s ms (21 hosts; the last had %s records that day)\n", a[11], a[19], n}'
}
echo "search:  --host H over one day in this store: $(search_p "$store" 2026-11-28)"
if [ -n "${SEARCH_STORE:-}" ]; then
  size=$("$isms" audit checkpoint --contract bench --store "$SEARCH_STORE" | sed -n 2p)
  echo "search:  --host H over ${SEARCH_DAY:?set SEARCH_DAY} in $SEARCH_STORE ($size records): $(search_p "$SEARCH_STORE" "$SEARCH_DAY")"
fi
