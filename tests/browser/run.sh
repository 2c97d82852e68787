#!/usr/bin/env bash
# Browser tests of the web interface (docs/web.md): starts `isms serve` on a temporary store with
# two contracts and users of each role, then drives Debian's chromium with playwright-core
# (web.test.mjs): log in, read the dashboard, record events through the forms, download and
# issue a report, and a buyer of one contract refused another.
# Needs /usr/bin/chromium, node and tests/browser/node_modules (scripts/install-deps.sh).
# Usage: tests/browser/run.sh PATH_TO_ISMS
set -euo pipefail
isms=${1:?usage: run.sh PATH_TO_ISMS}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

missing=()
[ -x /usr/bin/chromium ] || missing+=("/usr/bin/chromium (Debian package chromium)")
command -v node >/dev/null || missing+=("node (Debian package nodejs)")
[ -f "$here/node_modules/playwright-core/package.json" ] ||
  missing+=("tests/browser/node_modules (npm ci --prefix tests/browser)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "browser tests: missing ${missing[*]}; scripts/install-deps.sh installs them" >&2
  exit 1
fi

tmp=$(mktemp -d /tmp/isms-browser-XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
store="sqlite:$tmp/isms.db"
q() { "$isms" "$@" --store "$store" >>"$tmp/setup.log"; }

q init
start=$(date -u -d "-75 days" +%F)
q contract create acme --start "$start" --buyer "Department for Tests" --supplier "Acme Hosting"
q contract create other --start "$start" --buyer "Another Department" --supplier "Acme Hosting"
q event record person.joined --contract acme --subject alice --at "$(date -u -d "-70 days" +%F)"
q import scan "$root/tests/fixtures/vulns/web-week1.nessus" --contract acme
export ISMS_TEST_PASSWORD="browser test password 1"
for spec in officer:security-officer:acme engineer:engineer:acme buyer:buyer:acme \
            otherbuyer:buyer:other; do
  IFS=: read -r name role contract <<<"$spec"
  printf '%s\n' "$ISMS_TEST_PASSWORD" |
    q user add "$name" --role "$role" --contract "$contract" --password-stdin
done

"$isms" serve --store "$store" --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
for _ in $(seq 1 200); do
  grep -q '^listening: https' "$tmp/serve.out" 2>/dev/null && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "browser tests: isms serve did not start:" >&2
    cat "$tmp/serve.err" >&2
    exit 1
  fi
  sleep 0.05
done
ISMS_URL=$(grep -o 'https://[^)]*' "$tmp/serve.out" | head -1)
if [ -z "$ISMS_URL" ]; then
  echo "browser tests: isms serve printed no listening: line" >&2
  cat "$tmp/serve.out" "$tmp/serve.err" >&2
  exit 1
fi
export ISMS_URL ISMS_DOWNLOADS="$tmp/downloads"
status=0
node --test --test-reporter=spec "$here/web.test.mjs" || status=$?
if [ $status -ne 0 ]; then
  echo "--- isms serve's log:" >&2
  tail -n 50 "$tmp/serve.err" >&2
fi
exit $status
