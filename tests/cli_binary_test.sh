#!/usr/bin/env bash
# Drives the real `isms` binary as a script would: pipes, exit codes and help text.
# Usage: cli_binary_test.sh PATH_TO_ISMS
set -uo pipefail
isms=${1:?usage: cli_binary_test.sh PATH_TO_ISMS}
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

# Every command and subcommand answers --help with its usage and exit code 0. The commands are
# found by walking the "Subcommands:" lists of the help texts themselves, so none is missed.
subcommands() {  # the subcommand names listed in a help text on stdin
  sed -n '/^Subcommands:/,/^$/p' | sed -nE 's/^  ([a-z][a-z0-9-]*) .*/\1/p'
}
queue=("")
walked=0
seen=
while [ ${#queue[@]} -gt 0 ]; do
  cmd=${queue[0]}
  queue=("${queue[@]:1}")
  # shellcheck disable=SC2086
  out=$("$isms" $cmd --help 2>&1)
  check "help exit code: isms $cmd" 0 $?
  case "$out" in
    *Usage:*) passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)); echo "FAIL help text of 'isms $cmd' has no Usage: line" ;;
  esac
  walked=$((walked + 1))
  seen="$seen|$cmd|"
  while read -r sub; do
    [ -n "$sub" ] && queue+=("${cmd:+$cmd }$sub")
  done < <(printf '%s\n' "$out" | subcommands)
done
# The walk reaches the commands of every area.
for cmd in "calendar add" "audit erase" "user add" "token create" "serve" "report issue" \
           "vuln agree" "import scan" "event record"; do
  case "$seen" in
    *"|$cmd|"*) passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)); echo "FAIL the help walk did not reach 'isms $cmd'" ;;
  esac
done
check "help walked more than 60 commands" 1 "$([ "$walked" -gt 60 ] && echo 1 || echo 0)"

# A value of '-' reads one value per line; a bad line answers in place and the run goes on.
out=$(printf '2026-12-24\n2026-12-25\n\n2026-02-30\r\n2027-01-04\n' | "$isms" calendar is-working-day -)
code=$?
check "stdin: exit code 1 after a bad line" 1 "$code"
check "stdin: one result per input line" \
  "$(printf 'yes\nno\nerror: %s\nyes' "'2026-02-30' is not a calendar date (no such day in that month)")" "$out"

out=$(printf 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\nAV:N/AC:L/Au:N/C:P/I:P/A:P\n' | "$isms" cvss -)
check "stdin: cvss exit code" 0 $?
check "stdin: cvss lines" "$(printf '3.1 9.8 Critical Critical\n2.0 7.5 High Critical')" "$out"

out=$(printf '2026-12-08\n2027-03-26\n' | "$isms" deadline patch --category Other --released -)
check "stdin: deadline patch lines" "$(printf '2027-03-05\n2027-06-23')" "$out"

# A single bad value: one line on stderr naming it, nothing on stdout, exit code 1.
err=$("$isms" calendar add 2026-13-01 --days 1 2>&1 >/dev/null)
check "bad value exit code" 1 $?
check "bad value message" "isms: '2026-13-01' is not a calendar date (no such day in that month)" "$err"
out=$("$isms" calendar add 2026-13-01 --days 1 2>/dev/null)
check "bad value prints nothing on stdout" "" "$out"

# Usage errors exit 2.
"$isms" calendar add 2026-01-01 >/dev/null 2>&1
check "calendar add without a period exits 2" 2 $?
"$isms" calendar add 2026-01-01 --days 1 --months 1 >/dev/null 2>&1
check "two periods exit 2" 2 $?
"$isms" no-such-command >/dev/null 2>&1
check "unknown command exits 2" 2 $?

# The allocator (src/cli/allocator.h): a bulk command starts again at once on the build's bulk
# allocator (ISMS_TEST_BULK_ALLOCATOR, set by tests/CMakeLists.txt; empty in builds without one),
# keeping its process and name; ISMS_ALLOCATOR=system keeps glibc's malloc; other values are named.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
store="sqlite:$dir/isms.db"
"$isms" init --store "$store" >/dev/null && "$isms" contract create c --start 2026-01-05 --buyer B --store "$store" >/dev/null
check "allocator: a store for the checks" 0 $?
# Prints how many of the mappings of an `audit ingest -` (waiting for its input) are of the library
# $1, and its process name, once the library is mapped or after $2 tenths of a second; with the
# environment given after $2.
ingest_maps() {
  local lib=$1 tries=$2
  shift 2
  mkfifo "$dir/in"
  env "$@" "$isms" audit ingest - --contract c --store "$store" <"$dir/in" >/dev/null 2>&1 &
  local pid=$!
  exec 3>"$dir/in"
  for _ in $(seq "$tries"); do
    grep -q -F "$lib" "/proc/$pid/maps" 2>/dev/null && break
    sleep 0.1
  done
  echo "$(grep -c -F "$lib" "/proc/$pid/maps") $(cat "/proc/$pid/comm")"
  exec 3>&-
  wait "$pid"
  rm -f "$dir/in"
}
bulk=${ISMS_TEST_BULK_ALLOCATOR:-}
if [ -z "$bulk" ]; then
  echo "skip: this build has no bulk allocator (sanitizers, fuzzers or -DISMS_TCMALLOC=OFF)"
else
  maps=$(ingest_maps "$bulk" 50)  # up to 5 s on a loaded machine
  check "allocator: audit ingest runs on $bulk, as isms" "isms" "$(echo "$maps" | awk '$1 > 0 {print $2}')"
  maps=$(ingest_maps "$bulk" 5 ISMS_ALLOCATOR=system)
  check "allocator: ISMS_ALLOCATOR=system keeps glibc's malloc" "0 isms" "$maps"
  check "allocator: the binary itself does not load it" 0 "$(ldd "$isms" | grep -c -F "$(basename "$bulk")")"
fi
err=$(ISMS_ALLOCATOR=tcmalloc "$isms" --version 2>&1 >/dev/null)
check "allocator: an unknown ISMS_ALLOCATOR is named" \
  "isms: ISMS_ALLOCATOR=tcmalloc is not one of auto, system: glibc's malloc is used" "$err"

checks_done cli_binary_test
