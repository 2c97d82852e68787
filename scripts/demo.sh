#!/usr/bin/env bash
# What `make run` does: makes a demo store (./isms-demo/web, never the default store) with a
# demo contract, its events, a scan and audit records, and users of every role, then serves the
# web interface on HTTPS and prints the address, the certificate's fingerprint and the logins.
# Ctrl-C stops the server. The command-line tour is scripts/demo-cli.sh.
# Usage: scripts/demo.sh PATH_TO_ISMS   (ISMS_DEMO_LISTEN=127.0.0.1:8443 by default)
set -euo pipefail
isms=${1:?usage: demo.sh PATH_TO_ISMS}
isms=$(cd "$(dirname "$isms")" && pwd)/$(basename "$isms")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
listen=${ISMS_DEMO_LISTEN:-127.0.0.1:8443}
dir="$PWD/isms-demo/web"
store="sqlite:$dir/isms.db"

rm -rf "$dir"
mkdir -p "$dir"
q() { "$isms" "$@" --store "$store" >>"$dir/setup.log"; }
day() { date -u -d "$1" +%F; }

echo "isms demo: making the demo store in $dir ..."
q init
# The contract started 120 days ago, or before the demo scan's date (2026-01-12), whichever is
# earlier.
start=$(day "-120 days")
[[ "$start" > "2026-01-05" ]] && start=2026-01-05
q contract create demo --start "$start" --buyer "Department for Demos" --supplier "Acme Hosting" \
  --bespoke-isms
q contract create other --start "$start" --buyer "Another Department" --supplier "Acme Hosting"
at() { date -u -d "$start + $1 days" +%F; }
doc1=sha256:$(printf 'ISMS v1' | sha256sum | cut -d' ' -f1)
doc2=sha256:$(printf 'SMP v1' | sha256sum | cut -d' ' -f1)
q event record person.joined --contract demo --subject alice --at "$(at 1)"
q event record isms.submitted --contract demo --at "$(at 15)" "doc=$doc1"
q event record isms.approved --contract demo --at "$(at 25)" submission=2 evidence=MSG-0001
q event record smp.submitted --contract demo --at "$(at 30)" "doc=$doc2"
q event record person.left --contract demo --subject bob --at "$(day "-10 days")"
q event record breach.detected --contract demo --subject INC-1 --at "$(day "-3 days")"
q event record breach.notified --contract demo --subject INC-1 --at "$(day "-2 days")"
q import scan "$root/tests/fixtures/vulns/web-week1.nessus" --contract demo
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '%s\n' \
  "<86>1 $now bastion sshd 812 - - Accepted publickey for alice from 10.0.0.9 port 51234 ssh2" \
  "<85>1 $now bastion sudo - - - alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx" \
  "<4>1 $now gw kernel - - - [UFW BLOCK] IN=eth1 OUT=eth0 SRC=10.0.0.23 DST=203.0.113.7 PROTO=TCP SPT=40001 DPT=4444" \
  >"$dir/syslog.txt"
q audit ingest "$dir/syslog.txt" --contract demo --format syslog

# Users: a fresh random password each run, printed below.
password() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 16 || true; }
declare -A pw
add() {  # NAME ROLE [CONTRACT]
  pw[$1]=$(password)
  local contract=()
  [[ -n "${3:-}" ]] && contract=(--contract "$3")
  printf '%s\n' "${pw[$1]}" | "$isms" user add "$1" --role "$2" "${contract[@]}" --password-stdin \
    --store "$store" >>"$dir/setup.log"
}
add officer security-officer demo
add engineer engineer demo
add auditor auditor demo
add buyer buyer demo
add otherbuyer buyer other
add admin admin
totp=$("$isms" user totp admin --store "$store")
secret=$(printf '%s\n' "$totp" | grep -o 'secret=[A-Z2-7]*' | head -1 | cut -d= -f2)
uri=$(printf '%s\n' "$totp" | grep -o 'otpauth://[^ ]*' | head -1)

# The server, in the background until it says where it listens.
out="$dir/serve.out"
"$isms" serve --store "$store" --listen "$listen" >"$out" 2>"$dir/serve.err" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; exit 0' INT TERM
for _ in $(seq 1 100); do
  grep -q '^listening: https' "$out" 2>/dev/null && break
  if ! kill -0 $server 2>/dev/null; then
    echo "isms demo: the server did not start:" >&2
    cat "$dir/serve.err" >&2
    echo "(another program may hold $listen: set ISMS_DEMO_LISTEN=127.0.0.1:PORT)" >&2
    exit 1
  fi
  sleep 0.1
done
url=$(grep -o 'https://[^)]*' "$out" | head -1)
fingerprint=$(grep -o 'SHA-256 fingerprint .*' "$out" | head -1 | cut -d' ' -f3)

cat <<TXT

isms is serving the demo contract on $url
  The certificate is self-signed: your browser warns once. Its SHA-256 fingerprint is
  $fingerprint
  (compare it with what the browser shows before going on).

Log in as (passwords are new at each run):
  officer     ${pw[officer]}   security officer of contract demo: everything on it
  engineer    ${pw[engineer]}   engineer on demo: imports, remediation, audit search
  auditor     ${pw[auditor]}   auditor of demo: reads only
  buyer       ${pw[buyer]}   the Buyer's representative on demo: reads, and the Buyer's acts
  otherbuyer  ${pw[otherbuyer]}   the Buyer of contract "other": sees nothing of demo
  admin       ${pw[admin]}   users and grants only; needs a one-time code:
              add this to an authenticator app: $uri
              or get the current code with: python3 scripts/totp.py $secret

The store is $dir (the server's log: $dir/serve.err).
Ctrl-C stops the server.
TXT
wait $server
