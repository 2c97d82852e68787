#!/usr/bin/env bash
# Syslog ingest, isms against rsyslog, in one run on this machine: the same COUNT RFC 5424
# records (bench/syslog_send) over one TCP connection, octet-counted, to
#   - rsyslogd (Debian package rsyslog; imtcp to omfile, the raw message per line), and
#   - isms serve --syslog-tcp (parse, classify, Merkle tree, zstd chunks, signed checkpoints).
# Each rate runs from the first byte sent to the last record on disk: for rsyslog until the
# output file has COUNT lines; for isms until the server, sent SIGTERM after the last byte,
# has committed everything and exited. Then: bytes on disk per record, `isms audit verify` and
# `isms audit search --host` times. Builds nothing; run by hand (never by `make test`).
# Usage: scripts/bench-syslog.sh BUILD_DIR [COUNT]
#   BUILD_DIR: a release build with the targets isms and syslog_send.
set -euo pipefail
build=${1:?usage: bench-syslog.sh BUILD_DIR [COUNT]}
count=${2:-1000000}
isms=$build/src/cli/isms
send=$build/bench/syslog_send
command -v rsyslogd >/dev/null || { echo "bench-syslog: install rsyslog (apt-get install rsyslog)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'pkill -f "rsyslogd -n -f $tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "records: $count over one TCP connection"

# rsyslog
mkdir -p "$tmp/rs"
port=$(free_port)
cat >"$tmp/rs/rsyslog.conf" <<CONF
global(workDirectory="$tmp/rs")
module(load="imtcp")
input(type="imtcp" port="$port" address="127.0.0.1")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$tmp/rs/out.log" template="raw")
CONF
rsyslogd -n -f "$tmp/rs/rsyslog.conf" -i "$tmp/rs/pid" &
rs=$!
sleep 1
t0=$(now)
"$send" 127.0.0.1 "$port" "$count" >"$tmp/rs/send.txt"
while [ "$(wc -l <"$tmp/rs/out.log" 2>/dev/null || echo 0)" -lt "$count" ]; do sleep 0.1; done
t1=$(now)
kill "$rs"; wait "$rs" 2>/dev/null || true
raw=$(stat -c %s "$tmp/rs/out.log")
rs_rate=$(python3 -c "print(round($count/($t1-$t0)))")
echo "rsyslog: $(python3 -c "print(round($t1-$t0,2))") s = $rs_rate records/s; output file $raw bytes ($(python3 -c "print(round($raw/$count,1))") bytes/record)"

# isms
mkdir -p "$tmp/isms"
store="sqlite:$tmp/isms/isms.db"
"$isms" init --store "$store" >/dev/null
"$isms" contract create bench --start 2026-11-01 --store "$store" >/dev/null
port=$(free_port)
"$isms" serve --syslog-tcp "127.0.0.1:$port" --contract bench --store "$store" >"$tmp/isms/serve.out" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q '^listening' "$tmp/isms/serve.out" && break; sleep 0.05; done
t0=$(now)
"$send" 127.0.0.1 "$port" "$count" >"$tmp/isms/send.txt"
kill -TERM "$srv"; wait "$srv"
t1=$(now)
is_rate=$(python3 -c "print(round($count/($t1-$t0)))")
disk=$(du -cb "$tmp"/isms/isms-audit.db* | tail -1 | cut -f1)
echo "isms:    $(python3 -c "print(round($t1-$t0,2))") s = $is_rate records/s; audit store $disk bytes ($(python3 -c "print(round($disk/$count,1))") bytes/record, $(python3 -c "print(round($disk/$raw,3))") x the raw size)"
echo "ratio:   isms / rsyslog = $(python3 -c "print(round($is_rate/$rs_rate,2))")"
v0=$(now); "$isms" audit verify --contract bench --store "$store" | tail -1; v1=$(now)
echo "verify:  $(python3 -c "print(round($v1-$v0,2))") s = $(python3 -c "print(round($count/($v1-$v0)))") records/s"
for h in host-17 host-523; do
  s0=$(now); n=$("$isms" audit search --contract bench --store "$store" --host "$h" --from 2026-11-28T00:00:00Z --to 2026-11-29T00:00:00Z --count); s1=$(now)
  echo "search:  --host $h over one day: $n records in $(python3 -c "print(round(($s1-$s0)*1000))") ms (whole command)"
done
