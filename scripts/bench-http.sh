#!/usr/bin/env bash
# The HTTPS benchmark, run by hand (never by `make test`): `isms serve` over TLS on a loopback
# port, loaded with wrk (Debian package `wrk`) on one contract of FINDINGS findings
# (bench/gen_scans + `isms import scan`):
#
#   healthz           GET /healthz: the server's floor (no user, no store query, no record)
#   dashboard         GET /c/bench, the web dashboard, on a session cookie
#   vuln list         GET /api/v1/contracts/bench/vulnerabilities: the first page (100 findings)
#   vuln list deep    the same, the page at offset FINDINGS / 2 (from the kept list)
#   status overview   GET /api/v1/contracts/bench/status/overview
#   NDJSON ingest     POST /api/v1/audit/records, 10,000 JSON lines a request, over 1 and over 4
#                     keep-alive connections (bench/http_ingest.lua); each 200 means committed
#   peer: CLI ingest  `isms audit ingest` of 100,000 of the same lines, in process, no HTTP
#
# Every request with a user is authenticated and leaves an access record in the contract's audit
# log, as in production. Prints a Markdown table for docs/benchmarks.md: requests/s, latency p50,
# p90 and p99, non-2xx answers, and the load average before each run (the machine is shared).
#
# Usage: scripts/bench-http.sh BUILD_DIR [--findings N] [--connections C] [--duration S]
#                                        [--server-threads T] [--engine sqlite|postgres]
#                                        [--ingest-records N] [--keep]
#   --ingest-records  JSON lines per ingest request (default 10000)
#   BUILD_DIR  a release build with the targets isms and gen_scans:
#              cmake --preset release -B build/bench && cmake --build build/bench --target isms gen_scans
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:?usage: bench-http.sh BUILD_DIR [--findings N] [--connections C] [--duration S] [--server-threads T] [--engine E] [--keep]}
shift
findings=100000
connections=100
duration=30
server_threads=4
engine=sqlite
per_body=10000
keep=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --findings) findings=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --server-threads) server_threads=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --ingest-records) per_body=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "bench-http: unknown option $1" >&2; exit 2 ;;
  esac
done

isms=$build/src/cli/isms
gen=$build/bench/gen_scans
for b in "$isms" "$gen"; do
  [[ -x $b ]] || { echo "bench-http: $b is missing: cmake --build $build --target isms gen_scans" >&2; exit 1; }
done
for t in wrk curl python3; do
  command -v $t >/dev/null || { echo "bench-http: $t is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/isms-bench-http.XXXXXX)
server_pid=""
pg_dir=""
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -n $pg_dir ]]; then "$here/pg-test-cluster.sh" stop "$pg_dir" || true; fi
  if [[ $keep == 1 ]]; then echo "bench-http: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

log() { echo "bench-http: $*" >&2; }
load_now() { cut -d' ' -f1-3 /proc/loadavg; }

case $engine in
  sqlite) export ISMS_STORE="sqlite:$work/isms.db" ;;
  postgres)
    eval "$("$here/pg-test-cluster.sh" start)"
    pg_dir=$ISMS_PG_CLUSTER_DIR
    export ISMS_STORE=$ISMS_TEST_POSTGRES_URL
    ;;
  *) echo "bench-http: unknown engine $engine (sqlite, postgres)" >&2; exit 2 ;;
esac
export ISMS_KEY_DIR=$work/keys

log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(load_now)"
"$isms" init >/dev/null
"$isms" contract create bench --start 2026-01-05 >/dev/null
log "generating and importing $findings findings"
"$gen" --format nessus --hosts $((findings / 50)) --findings "$findings" --seed 20261129 \
  --scan-time 2026-11-02T09:00:00Z -o "$work/scan.nessus"
"$isms" import scan "$work/scan.nessus" --contract bench --quiet >&2
rm -f "$work/scan.nessus"
password="bench password $(date +%s)"
echo "$password" | "$isms" user add bench --role security-officer --contract bench --password-stdin >/dev/null
token=$("$isms" token create --user bench --expires 2099-12-31 --note bench | awk 'END {print $NF}')

# PER_BODY JSON lines (sshd, sudo, proxy and firewall records of 200 hosts), and 100,000 for the peer.
python3 - "$work/records.jsonl" "$per_body" <<'EOF'
import json, sys
out = open(sys.argv[1], "w")
texts = [
    ("sshd", "Accepted publickey for {u} from 10.0.{a}.{b} port {p} ssh2"),
    ("sudo", "{u} : TTY=pts/0 ; PWD=/home/{u} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"),
    ("squid", "1764400000.{p} 42 10.0.{a}.{b} TCP_MISS/200 5120 GET http://updates.example.com/{p} {u} HIER_DIRECT/93.184.216.34 text/html"),
    ("kernel", "[UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.{b} DST=10.0.{a}.5 PROTO=TCP SPT={p} DPT=22"),
]
for i in range(int(sys.argv[2])):
    app, text = texts[i % len(texts)]
    u = "user%d" % (i % 97)
    rec = {"time": "2026-11-28T%02d:%02d:%02dZ" % (i // 3600 % 24, i // 60 % 60, i % 60),
           "host": "host-%03d" % (i % 200), "app": app, "user": u,
           "message": text.format(u=u, a=i % 250, b=(i * 7) % 250, p=40000 + i % 20000)}
    out.write(json.dumps(rec, separators=(",", ":")) + "\n")
EOF
python3 - "$work/records.jsonl" "$work/records-100k.jsonl" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
with open(sys.argv[2], "w") as out:
    for i in range(100000):
        out.write(lines[i % len(lines)])
EOF
body_bytes=$(stat -c %s "$work/records.jsonl")

log "peer: isms audit ingest of 100,000 records"
peer_load=$(load_now)
peer=$("$isms" audit ingest "$work/records-100k.jsonl" --contract bench --format jsonl | awk '/^rate:/ {print $2}')

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=https://127.0.0.1:$port
"$isms" serve --listen "127.0.0.1:$port" --threads "$server_threads" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -skf "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -skf "$base/healthz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }

cookie=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
  --data "{\"name\":\"bench\",\"password\":\"$password\"}" "$base/api/v1/session" |
  awk -F': ' 'tolower($1) == "set-cookie" {split($2, a, ";"); print a[1]}')
[[ -n $cookie ]] || { echo "bench-http: no session cookie" >&2; exit 1; }
deep=$(printf 'o:%d' $((findings / 2)) | base64 | tr '+/' '-_' | tr -d '=')

# Each URL answers 200 before it is loaded.
check() {
  local code
  code=$(curl -sk -o "$work/check.out" -w '%{http_code}' "$@")
  [[ $code == 200 ]] || { echo "bench-http: $* answered $code: $(head -c 300 "$work/check.out")" >&2; exit 1; }
}
check "$base/healthz"
check -H "Cookie: $cookie" "$base/c/bench"
check -H "Authorization: Bearer $token" "$base/api/v1/contracts/bench/vulnerabilities"
items=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$work/check.out")
[[ $items == 100 ]] || { echo "bench-http: the first page holds $items findings" >&2; exit 1; }
check -H "Authorization: Bearer $token" "$base/api/v1/contracts/bench/vulnerabilities?cursor=$deep"
check -H "Authorization: Bearer $token" "$base/api/v1/contracts/bench/status/overview"

printf '| run | connections | requests/s | p50 | p90 | p99 | non-2xx | load avg before |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---|\n'

# wrk's --latency distribution -> one row.
load_run() {
  local name=$1 conns=$2
  shift 2
  local load out
  load=$(load_now)
  out=$(wrk -t2 -c"$conns" -d"${duration}s" --latency "$@")
  echo "$out" >>"$work/wrk.log"
  echo "$out" | awk -v n="$name" -v c="$conns" -v l="$load" '
    /^ +50%/ {p50 = $2} /^ +90%/ {p90 = $2} /^ +99%/ {p99 = $2}
    /^Requests\/sec:/ {rps = $2} /Non-2xx or 3xx responses:/ {bad = $5}
    END {printf "| %s | %d | %s | %s | %s | %s | %d | %s |\n", n, c, rps, p50, p90, p99, bad + 0, l}'
}

load_run "healthz" "$connections" "$base/healthz"
load_run "dashboard /c/bench" "$connections" -H "Cookie: $cookie" "$base/c/bench"
load_run "vuln list, first page" "$connections" -H "Authorization: Bearer $token" \
  "$base/api/v1/contracts/bench/vulnerabilities"
load_run "vuln list, page at $((findings / 2))" "$connections" -H "Authorization: Bearer $token" \
  "$base/api/v1/contracts/bench/vulnerabilities?cursor=$deep"
load_run "status overview" "$connections" -H "Authorization: Bearer $token" \
  "$base/api/v1/contracts/bench/status/overview"

printf '\n| ingest | connections | records/s | requests | non-2xx | load avg before |\n'
printf '|---|---:|---:|---:|---:|---|\n'
ingest_run() {
  local conns=$1 load out
  load=$(load_now)
  out=$(wrk -t1 -c"$conns" -d"${duration}s" -s "$root/bench/http_ingest.lua" \
    "$base/api/v1/audit/records" -- "$work/records.jsonl" "$token")
  echo "$out" >>"$work/wrk.log"
  echo "$out" | awk -v c="$conns" -v per="$per_body" -v l="$load" '
    /^INGEST/ {split($2, a, "="); split($3, b, "="); split($4, s, "=");
               printf "| NDJSON over HTTPS (%d records, %.1f MB a request) | %d | %.0f | %d | %d | %s |\n",
                      per, '"$body_bytes"' / 1e6, c, (a[2] - b[2]) * per / s[2], a[2], b[2], l}'
}
ingest_run 1
ingest_run 4
printf '| peer: `isms audit ingest`, 100,000 records in process | – | %s | – | – | %s |\n' "$peer" "$peer_load"

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
log "verifying the audit log after the run"
"$isms" audit verify --contract bench >&2
log "done; load $(load_now)"
