#!/usr/bin/env bash
# A short tour of isms on the command line (`make run` starts the web interface instead:
# scripts/demo.sh).
# Usage: scripts/demo-cli.sh PATH_TO_ISMS
set -euo pipefail
isms=${1:?usage: demo-cli.sh PATH_TO_ISMS}

step() { printf '\n\033[1m$ isms %s\033[0m\n' "$*"; "$isms" "$@"; }

cat <<'TXT'
isms — the security schedule of a UK public-sector IT contract, on the contract's clock.
This demo shows the contract's arithmetic. Every command has --help.
TXT

step calendar holidays 2026
step calendar is-working-day 2026-12-28
echo
echo "# 3.1: the ISMS is due 20 Working Days after a Start Date of 2026-12-14 (Christmas in between):"
step calendar add 2026-12-14 --working-days 20
echo
echo "# 9.2: a CVSS v3.1 vector scored and mapped to the schedule's category:"
step cvss "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
step cvss --json "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N"
echo
echo "# 9.3: patch deadlines counted from the patch's public release (2026-12-08):"
step deadline patch --category Critical --released 2026-12-08
step deadline patch --category Important --released 2026-12-08 --extension
step deadline patch --category Other --released 2026-12-08
echo
echo "# Values read from standard input, one result per line:"
printf '2026-12-24\n2026-12-25\n2027-01-01\n2026-02-30\n' | {
  printf '\033[1m$ printf ... | isms calendar is-working-day -\033[0m\n'
  "$isms" calendar is-working-day - || true
}
echo
echo "# The contract's timescales, each with its clause and whether the schedule or isms set it:"
step policy show

echo
echo "# The ledger: a demo contract in its own store (./isms-demo/cli, never the default store)."
demo_store="sqlite:$PWD/isms-demo/cli/isms.db"
rm -rf isms-demo/cli
"$isms" init --store "$demo_store" >/dev/null
day() { date -u -d "$1" +%F; }
start=$(day "-120 days")
run() { printf '\033[1m$ isms %s\033[0m\n' "$*"; "$isms" "$@" --store "$demo_store"; }
run contract create demo --start "$start" --buyer "Department for Demos" --supplier "Acme Hosting" --bespoke-isms
doc1=sha256:$(printf 'ISMS v1' | sha256sum | cut -d' ' -f1)
doc2=sha256:$(printf 'SMP v1' | sha256sum | cut -d' ' -f1)
run event record isms.submitted --contract demo --at "$(day "-95 days")" "doc=$doc1"
run event record smp.submitted --contract demo --at "$(day "-90 days")" "doc=$doc2"
run event record isms.approved --contract demo --at "$(day "-80 days")" submission=1 evidence=MSG-0001
run event record person.joined --contract demo --subject alice --at "$(day "-100 days")"
run event record person.left --contract demo --subject bob --at "$(day "-10 days")"
run event record breach.detected --contract demo --subject INC-1 --at "$(day "-3 days")"
run event record breach.notified --contract demo --subject INC-1 --at "$(day "-2 days")"
run status --contract demo
echo
echo "# Audit records (A1 8): syslog lines classified, stored in a tamper-evident log, verified."
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '%s\n' \
  "<86>1 $now bastion sshd 812 - - Accepted publickey for alice from 10.0.0.9 port 51234 ssh2" \
  "<85>1 $now bastion sudo - - - alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx" \
  "<4>1 $now gw kernel - - - [UFW BLOCK] IN=eth1 OUT=eth0 SRC=10.0.0.23 DST=203.0.113.7 PROTO=TCP SPT=40001 DPT=4444" \
  | { printf '\033[1m$ printf ... | isms audit ingest - --contract demo --format syslog\033[0m\n'
      "$isms" audit ingest - --contract demo --format syslog --store "$demo_store"; }
run audit search --contract demo --user alice
run audit verify --contract demo
echo
echo "Explore: $isms status --contract demo --store $demo_store --summary"
