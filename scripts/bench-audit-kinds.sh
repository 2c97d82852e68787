#!/usr/bin/env bash
# Searches by category and erasures of DHCP records in a large audit log, where the categories
# come, as in an estate, from different hosts: 1 % DHCP grants from two DHCP servers (5,000
# addresses), 30 % proxy requests from four proxies, the rest sshd log-ons and sudo commands from
# 1,000 hosts, one record every 5 ms from 2026-11-02 (RFC 5424, ingested by `isms audit ingest`
# in files of a million). Prints the time of each whole command:
#   - `isms audit search --category K --count` for dhcp-lease, outbound-request and
#     remote-session-start (3 runs each), and once without --category;
#   - `isms audit erase --leaf I` of three DHCP grants (each rebuilds the lease index);
#   - `isms audit verify` at the end (which must pass), and the lease index's checksum.
# With PEER_BUILD=DIR (a release build of another commit, e.g. one from before blocks kept their
# kinds), the same on a store of its own made by that build, in the same run.
# Builds nothing; run by hand (never by `make test`).
# Usage: scripts/bench-audit-kinds.sh BUILD_DIR [COUNT]    (COUNT default 10,000,000)
set -euo pipefail
build=${1:?usage: bench-audit-kinds.sh BUILD_DIR [COUNT]}
count=${2:-10000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The time of day in seconds, read without starting a process (bash 5's EPOCHREALTIME, with a
# point for the decimals): a `date` at each end of a timing added 14-16 ms to every command timed
# on a machine whose processes are slow to start (docs/benchmarks.md, run 32).
LC_NUMERIC=C
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$tmp/gen"
python3 - "$count" 1000000 "$tmp/gen" <<'PY'
import datetime, sys
n, per, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = datetime.datetime(2026, 11, 2)
f = None
for i in range(n):
    if i % per == 0:
        if f: f.close()
        f = open(f"{out}/part{i // per:04d}.log", "w")
    t = base + datetime.timedelta(milliseconds=i * 5)
    ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    r = i % 100
    if r == 0:
        k = (i // 100) % 5000
        ip = f"10.20.{k // 250}.{k % 250 + 1}"
        mac = "3c:22:fb:%02x:%02x:%02x" % (k >> 16 & 255, k >> 8 & 255, k & 255)
        f.write(f"<30>1 {ts} dhcp-0{(i // 100) % 2 + 1} dhcpd 612 - - DHCPACK on {ip} to {mac} "
                f"(laptop-{k}) via eth0\n")
    elif r < 31:
        f.write(f"<134>1 {ts} proxy-{i % 4} squid 1201 - - 1772440800.512    187 "
                f"10.20.{(i // 7) % 20}.{i % 250 + 1} TCP_MISS/200 5120 GET "
                f"http://updates.example.org/x - HIER_DIRECT/93.184.216.34 text/html\n")
    elif r < 70:
        f.write(f"<86>1 {ts} host-{i % 1000} sshd {1000 + i % 5000} - - Accepted publickey for "
                f"alice from 10.0.0.9 port 51234 ssh2: ED25519 SHA256:abc\n")
    else:
        f.write(f"<86>1 {ts} host-{i % 1000} sudo {1000 + i % 5000} - - alice : TTY=pts/0 ; "
                f"PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx seq={i}\n")
f.close()
PY
echo "records: $count in $(ls "$tmp/gen" | wc -l) files"

run() {  # run NAME ISMS
  local name=$1 isms=$2 dir="$tmp/$1"
  mkdir -p "$dir"
  local store="sqlite:$dir/isms.db"
  "$isms" init --store "$store" >/dev/null
  "$isms" contract create bench --start 2026-10-01 --store "$store" >/dev/null
  local t0 t1
  t0=$EPOCHREALTIME
  for f in "$tmp"/gen/part*.log; do
    "$isms" audit ingest "$f" --contract bench --format syslog --store "$store" >/dev/null
  done
  t1=$EPOCHREALTIME
  echo "$name: ingested in $(secs "$t0" "$t1") s"
  for k in dhcp-lease outbound-request remote-session-start; do
    local times=() n
    for _ in 1 2 3; do
      t0=$EPOCHREALTIME
      n=$("$isms" audit search --contract bench --category "$k" --count --store "$store")
      t1=$EPOCHREALTIME
      times+=("$(secs "$t0" "$t1")")
    done
    echo "$name: search --category $k --count: $n records; ${times[*]} s"
  done
  t0=$EPOCHREALTIME
  n=$("$isms" audit search --contract bench --count --store "$store")
  t1=$EPOCHREALTIME
  echo "$name: search --count (every category): $n records; $(secs "$t0" "$t1") s"
  for leaf in 100 $((count / 200 * 100)) $(((count - 1) / 100 * 100)); do  # DHCP grants: every 100th
    t0=$EPOCHREALTIME
    "$isms" audit erase --contract bench --leaf "$leaf" --store "$store" >/dev/null
    t1=$EPOCHREALTIME
    echo "$name: erase --leaf $leaf (a DHCP grant; the lease index rebuilt): $(secs "$t0" "$t1") s"
  done
  t0=$EPOCHREALTIME
  "$isms" audit verify --contract bench --store "$store" | sed "s/^/$name: /"
  t1=$EPOCHREALTIME
  echo "$name: verify: $(secs "$t0" "$t1") s"
  if command -v sqlite3 >/dev/null; then
    echo "$name: lease index: $(sqlite3 "$dir/isms-audit.db" "SELECT count(*) FROM audit_leases") leases, checksum $(sqlite3 "$dir/isms-audit.db" "SELECT * FROM audit_leases ORDER BY ip, start_ms" | md5sum | cut -c1-12)"
  fi
}
run isms "$build/src/cli/isms"
[ -n "${PEER_BUILD:-}" ] && run peer "$PEER_BUILD/src/cli/isms"
exit 0
