#!/usr/bin/env bash
# Drives `isms serve`: records sent over TCP (octet counting and LF framing) and UDP are
# committed within a second; after kill -9 what was committed is intact and verifies; SIGTERM
# commits everything received before exit.
# Usage: serve_test.sh PATH_TO_ISMS
set -uo pipefail
isms=${1:?usage: serve_test.sh PATH_TO_ISMS}
passed=0
failed=0
dir=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
export ISMS_STORE="sqlite:$dir/isms.db"

check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"
  fi
}

# Starts the server on ports the system chooses; sets server, tcp_port, udp_port.
start() {
  : >"$dir/out"
  "$isms" serve --syslog-tcp 127.0.0.1:0 --syslog-udp 127.0.0.1:0 --contract c \
    >"$dir/out" 2>>"$dir/err" &
  server=$!
  for _ in $(seq 200); do
    [ "$(grep -c '^listening' "$dir/out")" == 2 ] && break
    sleep 0.05
  done
  tcp_port=$(sed -nE 's/^listening: syslog tcp 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
  udp_port=$(sed -nE 's/^listening: syslog udp 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
}

count() {  # count TEXT: committed records containing TEXT
  "$isms" audit search --contract c --count --text "$1" 2>&1
}

wait_count() {  # wait_count TEXT N: waits up to 10 s for N records (1 s when all is well)
  for _ in $(seq 100); do
    [ "$(count "$1")" == "$2" ] && break
    sleep 0.1
  done
  count "$1"
}

"$isms" init >/dev/null 2>&1
"$isms" contract create c --start 2026-01-01 >/dev/null
"$isms" contract create other --start 2026-01-01 >/dev/null

"$isms" serve --syslog-tcp 127.0.0.1:0 >/dev/null 2>"$dir/several"
check "several contracts and no --contract: refused" 1 $?
check "several contracts: says so" 1 "$(grep -c 'several contracts' "$dir/several")"
"$isms" serve --syslog-tcp 127.0.0.1:0 --contract c --syslog-allow 10.0.0.0/33 >/dev/null 2>&1
check "bad --syslog-allow: refused" 1 $?

start
check "prints the tcp listener" 1 "$(grep -c "^listening: syslog tcp 127.0.0.1:[0-9]* for contract c$" "$dir/out")"
check "prints the udp listener" 1 "$(grep -c "^listening: syslog udp 127.0.0.1:[0-9]* for contract c$" "$dir/out")"

for i in 1 2 3; do
  logger --server 127.0.0.1 --port "$tcp_port" --tcp --octet-count -t app "basic-octet $i"
  logger --server 127.0.0.1 --port "$udp_port" --udp -t app "basic-udp $i"
done
exec 3<>"/dev/tcp/127.0.0.1/$tcp_port"
printf '<13>Nov 29 00:00:00 host1 sshd[1]: basic-lf 1\n' >&3
msg='<13>1 - - - - - - basic-lf 2'
printf '%d %s' "${#msg}" "$msg" >&3
printf 'basic-lf 3 unparsable\n' >&3
exec 3>&-
check "octet-counted tcp records committed" 3 "$(wait_count basic-octet 3)"
check "udp records committed" 3 "$(wait_count basic-udp 3)"
check "LF and counted frames on one connection committed" 3 "$(wait_count basic-lf 3)"
check "unparsable input kept verbatim" 1 \
  "$("$isms" audit search --contract c --json --text 'basic-lf 3' | grep -c '"message": "basic-lf 3 unparsable"')"

# kill -9 mid-stream: what was committed is intact, a prefix of what was sent, and verifies.
(
  exec 3<>"/dev/tcp/127.0.0.1/$tcp_port"
  for b in $(seq 0 19); do
    for i in $(seq $((b * 100)) $((b * 100 + 99))); do
      printf '<13>Nov 29 00:00:00 h app: crash-%d.\n' "$i"
    done >&3
    sleep 0.1
  done
  exec 3>&-
) 2>/dev/null &
sender=$!
sleep 1
{ kill -9 "$server" && wait "$server"; } 2>/dev/null
server=
wait "$sender" 2>/dev/null
start
n=$(count crash-)
if [ "$n" -gt 0 ] && [ "$n" -lt 2000 ]; then
  check "kill -9 mid-stream: some but not all committed" yes yes
else
  check "kill -9 mid-stream: some but not all committed (0 < n < 2000)" yes "$n"
fi
last=$("$isms" audit search --contract c --text crash- | tail -1 | grep -o 'crash-[0-9]*')
check "committed records are a prefix of those sent" "crash-$((n - 1))" "$last"
check "the log verifies after kill -9" OK "$("$isms" audit verify --contract c | cut -c1-2)"

# SIGTERM right after sending: everything received is committed before exit.
exec 3<>"/dev/tcp/127.0.0.1/$tcp_port"
for i in $(seq 500); do printf '<13>Nov 29 00:00:00 h app: sigterm-tcp-%d\n' "$i"; done >&3
exec 3>&-
for i in $(seq 20); do logger --server 127.0.0.1 --port "$udp_port" --udp "sigterm-udp-$i"; done
kill -TERM "$server"
wait "$server"
check "SIGTERM: exit code" 0 $?
server=
check "SIGTERM: every tcp record committed" 500 "$(count sigterm-tcp-)"
check "SIGTERM: every udp record committed" 20 "$(count sigterm-udp-)"
check "SIGTERM: reports what it committed" 1 "$(grep -c '^stopped: received' "$dir/out")"
check "the log verifies" OK "$("$isms" audit verify --contract c | cut -c1-2)"

echo "$passed passed, $failed failed"
[ "$failed" == 0 ]
