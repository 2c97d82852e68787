#!/usr/bin/env bash
# kill -9 in the middle of a large import into SQLite (a report of over 20 MB: a transaction
# written through a rollback journal, docs/storage.md): the store keeps nothing of the import,
# is whole and back in WAL mode, and takes the same report again, whole.
# Usage: import_kill_test.sh PATH_TO_ISMS
set -uo pipefail
isms=${1:?usage: import_kill_test.sh PATH_TO_ISMS}
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

work=$(mktemp -d)
importer=""
cleanup() {
  [ -n "$importer" ] && kill -9 "$importer" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
db=$work/isms.db
store=sqlite:$db
"$isms" init --store "$store" >/dev/null || { echo "FAIL isms init"; exit 1; }
"$isms" contract create c --start 2026-01-05 --buyer B --store "$store" >/dev/null ||
  { echo "FAIL contract create"; exit 1; }

# 200 hosts with 150 findings each: 30,000 findings in about 60 MB.
findings=30000
python3 - "$work/big.nessus" <<'PY'
import sys
pad = "o" * 1700
with open(sys.argv[1], "w") as f:
    f.write('<?xml version="1.0" ?>\n<NessusClientData_v2>\n<Report name="estate">\n')
    for h in range(200):
        f.write(f'<ReportHost name="host{h}.example.gov.uk"><HostProperties>'
                f'<tag name="Credentialed_Scan">true</tag>'
                f'<tag name="host-ip">10.1.{h // 250}.{h % 250 + 1}</tag>'
                f'<tag name="HOST_START_TIMESTAMP">1768813200</tag></HostProperties>\n')
        for i in range(150):
            f.write(f'<ReportItem port="22" svc_name="ssh" protocol="tcp" severity="3" '
                    f'pluginID="{500000 + i}" pluginName="Flaw {i}" pluginFamily="Misc.">'
                    f'<cve>CVE-2025-{10000 + i}</cve><risk_factor>High</risk_factor>'
                    f'<patch_publication_date>2026/01/05</patch_publication_date>'
                    f'<plugin_output>{pad}</plugin_output></ReportItem>\n')
        f.write('</ReportHost>\n')
    f.write('</Report>\n</NessusClientData_v2>\n')
PY
check "the report is over 20 MB" 1 "$([ "$(stat -c %s "$work/big.nessus")" -gt 20480000 ] && echo 1 || echo 0)"

json_len() { python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
count() {  # findings of contract c in every state
  "$isms" vuln list --contract c --state all --json --store "$store" | json_len
}
header_modes() {  # bytes 18 and 19 of the store's header: 2 2 in WAL mode, 1 1 with a journal
  python3 -c 'import sys; b = open(sys.argv[1], "rb").read(20); print(b[18], b[19])' "$db"
}

# The import is killed once its journal holds pages of the store it has changed (the switch
# out of WAL mode writes a journal of its own, of one page, before the import begins).
"$isms" import scan "$work/big.nessus" --contract c --quiet --store "$store" >/dev/null 2>&1 &
importer=$!
seen=0
for _ in $(seq 1 10000); do
  if [ "$(stat -c %s "$db-journal" 2>/dev/null || echo 0)" -ge 16384 ]; then
    seen=1
    break
  fi
  kill -0 "$importer" 2>/dev/null || break
  sleep 0.001
done
kill -9 "$importer" 2>/dev/null
wait "$importer" 2>/dev/null
importer=""
check "the import wrote through a rollback journal" 1 "$seen"
check "killed mid-import: a hot journal is left beside the store" 1 "$([ -e "$db-journal" ] && echo 1 || echo 0)"
check "killed mid-import: the store is in rollback-journal mode" "1 1" "$(header_modes)"

# The next command rolls the store back from the journal and sets WAL mode again.
check "after kill -9: no finding of the import" 0 "$(count)"
check "after kill -9: the journal is gone" 0 "$([ -e "$db-journal" ] && echo 1 || echo 0)"
check "after kill -9: the store is in WAL mode" "2 2" "$(header_modes)"
check "after kill -9: no asset of the import" 0 \
  "$("$isms" asset list --contract c --json --store "$store" | json_len)"

# The same report again lands whole.
"$isms" import scan "$work/big.nessus" --contract c --quiet --store "$store" >/dev/null
check "the report imported again: exit code" 0 $?
check "the report imported again: every finding" "$findings" "$(count)"
check "the report imported again: the store is in WAL mode" "2 2" "$(header_modes)"

checks_done import_kill_test
