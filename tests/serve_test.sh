#!/usr/bin/env bash
# Drives `isms serve`: records sent over TCP (octet counting and LF framing) and UDP are
# committed within a second; after kill -9 what was committed is intact and verifies; SIGTERM
# commits everything received before exit; a lone record is committed without waiting for a
# batch, and batches end at the audit log's chunk boundaries. TLS (RFC 5425) with a throwaway
# CA, with and without client certificates; rsyslog's omfwd forwarding to `serve`, when rsyslogd
# is installed; the HTTPS listener's certificate, health, HSTS and plain-HTTP rules; the limits
# (connections, TLS handshake time, idle connections) and the certificate reloaded on SIGHUP; the
# threads' names; the memory reserved at start (--syslog-memory); listeners of two contracts in one
# server; the signing key rotated while it runs.
# Usage: serve_test.sh PATH_TO_ISMS
set -uo pipefail
isms=${1:?usage: serve_test.sh PATH_TO_ISMS}
# shellcheck source=tests/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/check.sh"

dir=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
export ISMS_STORE="sqlite:$dir/isms.db"

# Starts the server on ports the system chooses; sets server, tcp_port, udp_port.
start() {
  : >"$dir/out"
  "$isms" serve --listen none --syslog-tcp 127.0.0.1:0 --syslog-udp 127.0.0.1:0 --contract c \
    >"$dir/out" 2>>"$dir/err" &
  server=$!
  for _ in $(seq 200); do
    [ "$(grep -c '^listening' "$dir/out")" == 2 ] && break
    sleep 0.05
  done
  tcp_port=$(sed -nE 's/^listening: syslog tcp 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
  udp_port=$(sed -nE 's/^listening: syslog udp 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
}

count_in() {  # count_in CONTRACT TEXT: committed records of CONTRACT containing TEXT
  "$isms" audit search --contract "$1" --count --text "$2" 2>&1
}

# wait_in CONTRACT TEXT N: waits up to 10 s for N such records (1 s when all is well)
wait_in() {
  for _ in $(seq 100); do
    [ "$(count_in "$1" "$2")" == "$3" ] && break
    sleep 0.1
  done
  count_in "$1" "$2"
}

count() { count_in c "$1"; }             # count TEXT: of contract c
wait_count() { wait_in c "$1" "$2"; }    # wait_count TEXT N: of contract c

"$isms" init >/dev/null 2>&1
"$isms" contract create c --start 2026-01-01 >/dev/null
"$isms" contract create other --start 2026-01-01 >/dev/null

"$isms" serve --listen none --syslog-tcp 127.0.0.1:0 >/dev/null 2>"$dir/several"
check "several contracts and no --contract: refused" 1 $?
check "several contracts: says so" 1 "$(grep -c 'several contracts' "$dir/several")"
"$isms" serve --listen none --syslog-tcp 127.0.0.1:0 --contract c --syslog-allow 10.0.0.0/33 >/dev/null 2>&1
check "bad --syslog-allow: refused" 1 $?

start
check "prints the tcp listener" 1 "$(grep -c "^listening: syslog tcp 127.0.0.1:[0-9]* for contract c$" "$dir/out")"
check "prints the udp listener" 1 "$(grep -c "^listening: syslog udp 127.0.0.1:[0-9]* for contract c$" "$dir/out")"
check "the process keeps its name; the preparers', the writer's and the checkpointer's threads are named" \
  "isms syslog-prepare syslog-writer wal-checkpoint" \
  "$(cat /proc/$server/task/*/comm | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "reserves memory for its listeners at start (--syslog-memory, 256 MiB by default)" 1 \
  "$(grep -c '^isms serve: reserved 256 MiB of memory for the syslog listeners (' "$dir/err")"
if [ -n "${ISMS_TEST_BULK_ALLOCATOR:-}" ]; then
  check "the server runs on tcmalloc, preloaded (src/cli/allocator.h)" 1 \
    "$(grep -c -F -m1 "$ISMS_TEST_BULK_ALLOCATOR" /proc/$server/maps)"
  check "the reserve is tcmalloc's" 1 "$(grep -c '^isms serve: reserved 256 MiB .*(tcmalloc;' "$dir/err")"
fi
if ! grep -qs -e '\[always\]' -e '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled; then
  echo "skip: transparent huge pages are off on this system: the reserve is on ordinary pages"
elif [ -z "${ISMS_TEST_BULK_ALLOCATOR:-}" ]; then
  # The sanitizers' builds do not use tcmalloc, and ASan's allocator takes glibc's place: its
  # memory is not the heap the reserve advises.
  echo "skip: this build does not use tcmalloc: the reserve is not in the heap it advises"
else
  check "the reserve is in huge pages where the system has them (and says how much)" 1 \
    "$(grep -c "^isms serve: reserved 256 MiB .*; [1-9][0-9]* MiB of the process's memory in huge pages;" "$dir/err")"
fi
check "on SQLite, libpq (and the libraries it needs) is not loaded" 0 \
  "$(grep -c -e 'libpq\.so' -e 'libkrb5' -e 'libldap' /proc/$server/maps)"

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
check "the log verifies after kill -9" OK "$("$isms" audit verify --contract c | head -1 | cut -c1-2)"

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
check "the log verifies" OK "$("$isms" audit verify --contract c | head -1 | cut -c1-2)"

# Listeners of two contracts in one server (ADDR=CONTRACT): each record goes to the contract of
# the listener it came in on; a listener without one feeds --contract.
"$isms" contract create second --start 2026-01-01 >/dev/null
: >"$dir/out"
"$isms" serve --listen none --contract c --syslog-tcp 127.0.0.1:0 --syslog-tcp 127.0.0.1:0=second \
  --syslog-udp 127.0.0.1:0=second --syslog-tcp 127.0.0.1:0=c >"$dir/out" 2>>"$dir/err" &
server=$!
for _ in $(seq 200); do
  [ "$(grep -c '^listening' "$dir/out")" == 4 ] && break
  sleep 0.05
done
check "two contracts: c's two listeners" 2 "$(grep -c '^listening: syslog tcp 127.0.0.1:[0-9]* for contract c$' "$dir/out")"
check "two contracts: second's tcp listener" 1 "$(grep -c '^listening: syslog tcp 127.0.0.1:[0-9]* for contract second$' "$dir/out")"
c_port=$(sed -nE 's/^listening: syslog tcp 127\.0\.0\.1:([0-9]+) for contract c$/\1/p' "$dir/out" | head -1)
second_port=$(sed -nE 's/^listening: syslog tcp 127\.0\.0\.1:([0-9]+) for contract second$/\1/p' "$dir/out")
second_udp=$(sed -nE 's/^listening: syslog udp 127\.0\.0\.1:([0-9]+) for contract second$/\1/p' "$dir/out")
logger --server 127.0.0.1 --port "$c_port" --tcp --octet-count -t app "two-contracts to-c"
logger --server 127.0.0.1 --port "$second_port" --tcp --octet-count -t app "two-contracts to-second"
logger --server 127.0.0.1 --port "$second_udp" --udp -t app "two-contracts to-second"
check "two contracts: c's listener feeds c" 1 "$(wait_in c 'two-contracts to-c' 1)"
check "two contracts: second's listeners feed second" 2 "$(wait_in second 'two-contracts to-second' 2)"
check "two contracts: c holds none of second's" 0 "$(count_in c 'two-contracts to-second')"
check "two contracts: a writer each" 2 "$(cat /proc/$server/task/*/comm | grep -c '^syslog-writer$')"
check "two contracts: a reserve each" 1 \
  "$(grep -c '^isms serve: reserved 512 MiB of memory for the syslog listeners (' "$dir/err")"
kill -TERM "$server"
wait "$server"
check "two contracts: SIGTERM: exit code" 0 $?
server=
check "two contracts: each reports what it committed" 2 \
  "$(grep -cE '^stopped: received [0-9]+, committed [0-9]+, udp dropped 0 for contract (c|second)$' "$dir/out")"
check "two contracts: second's log verifies" OK "$("$isms" audit verify --contract second | head -1 | cut -c1-2)"

# --syslog-memory 0: nothing reserved (and said so by saying nothing).
: >"$dir/out"
"$isms" serve --listen none --contract c --syslog-tcp 127.0.0.1:0 --syslog-memory 0 >"$dir/out" \
  2>"$dir/err0" &
server=$!
for _ in $(seq 200); do
  grep -q '^listening' "$dir/out" && break
  sleep 0.05
done
check "--syslog-memory 0: listens" 1 "$(grep -c '^listening: syslog tcp' "$dir/out")"
check "--syslog-memory 0: reserves nothing" 0 "$(grep -c 'reserved' "$dir/err0")"
kill -TERM "$server"
wait "$server"
check "--syslog-memory 0: SIGTERM: exit code" 0 $?
server=
"$isms" serve --listen none --syslog-tcp 127.0.0.1:0= >/dev/null 2>"$dir/bad-spec"
check "ADDR= without a contract: refused" 1 $?
check "ADDR= without a contract: says how" 1 "$(grep -c 'ADDR=CONTRACT for a listener of that contract' "$dir/bad-spec")"
"$isms" serve --listen none --contract c --syslog-tcp 127.0.0.1:0=nosuch >/dev/null 2>"$dir/bad-contract"
check "a listener of an unknown contract: refused" 1 $?
check "a listener of an unknown contract: names it" 1 "$(grep -c 'nosuch' "$dir/bad-contract")"
# A store of one contract and no --contract: a listener without =CONTRACT feeds it, and one that
# names it is refused, as it would give the contract a second writer.
mkdir -p "$dir/one"
"$isms" init --store "sqlite:$dir/one/isms.db" >/dev/null 2>&1
"$isms" contract create solo --start 2026-01-01 --store "sqlite:$dir/one/isms.db" >/dev/null
"$isms" serve --listen none --store "sqlite:$dir/one/isms.db" --syslog-tcp 127.0.0.1:0 \
  --syslog-tcp 127.0.0.1:0=solo >/dev/null 2>"$dir/twice"
check "one contract named two ways: refused" 1 $?
check "one contract named two ways: says how to name it" 1 \
  "$(grep -c 'feed the same contract solo; name it the same way on each' "$dir/twice")"

# Starts `isms serve ARGS` with one listener for contract $contract (default c); sets server and
# port.
start_one() {
  : >"$dir/out"
  "$isms" serve --listen none --contract "${contract:-c}" "$@" >"$dir/out" 2>>"$dir/err" &
  server=$!
  for _ in $(seq 200); do
    grep -q '^listening' "$dir/out" && break
    sleep 0.05
  done
  port=$(sed -nE 's/^listening: syslog [a-z]+ 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
}

stop() {
  kill -TERM "$server"
  wait "$server"
  server=
}

# Several preparer threads: the reads of one connection are prepared on different threads at
# once, and its records are appended in the order they were sent, all of them.
start_one --syslog-tcp 127.0.0.1:0 --syslog-threads 4
check "--syslog-threads 4: four preparers" 4 "$(cat /proc/$server/task/*/comm | grep -c '^syslog-prepare$')"
python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall("".join("<13>Nov 29 00:00:00 h app: order-%d\n" % i for i in range(30000)).encode())
s.close()
PY
check "several preparers: every record committed" 30000 "$(wait_count order- 30000)"
"$isms" audit search --contract c --text order- --limit 30000 | grep -o 'order-[0-9]*' |
  sed 's/order-//' >"$dir/order"
check "several preparers: in the order sent" "$(seq 0 29999 | md5sum)" "$(md5sum <"$dir/order")"
stop
"$isms" serve --listen none --contract c --syslog-tcp 127.0.0.1:0 --syslog-threads 0 >/dev/null 2>"$dir/threads0"
check "--syslog-threads 0: refused as a usage error" 2 $?

# Group commit (docs/serve.md), on the empty contract "other" with chunks of 256 records: a lone
# record is committed within the flush interval (200 ms), without waiting for a batch to fill;
# under load a batch ends where the log's next chunk begins, so 600 records sent at once after
# it are committed in at least three batches (255, 256, 89; a checkpoint each), not in one.
checkpoints() {  # the number of checkpoints of contract "other"
  "$isms" audit verify --contract other | sed -nE 's/.* ([0-9]+) checkpoints;.*/\1/p'
}
contract=other ISMS_AUDIT_CHUNK_BITS=8 start_one --syslog-tcp 127.0.0.1:0
printf '<13>Nov 29 00:00:00 h app: few-1\n' >"/dev/tcp/127.0.0.1/$port"
sleep 1
check "a lone record: committed within a second, without a full batch" 1 \
  "$("$isms" audit search --contract other --count --text few-)"
before=$(checkpoints)
lines=$(for i in $(seq 600); do printf '<13>Nov 29 00:00:00 h app: aligned-%d\n' "$i"; done)
printf '%s\n' "$lines" >"/dev/tcp/127.0.0.1/$port"
for _ in $(seq 100); do
  [ "$("$isms" audit search --contract other --count --text aligned-)" == 600 ] && break
  sleep 0.1
done
stop
check "600 records at once: all committed" 600 \
  "$("$isms" audit search --contract other --count --text aligned-)"
after=$(checkpoints)
check "600 records at once: batches end at the chunk boundaries (at least 3 batches)" yes \
  "$([ $((after - before)) -ge 3 ] && echo yes || echo "$((after - before)) batches")"
check "the log of other verifies" OK "$("$isms" audit verify --contract other | head -1 | cut -c1-2)"

# TLS (RFC 5425): a throwaway CA signs the server's and a client's certificates.
cert() {  # cert NAME CN: NAME.key and NAME.pem signed by the CA
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
    -keyout "$dir/$1.key" -out "$dir/$1.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile <(printf 'subjectAltName=IP:127.0.0.1') -out "$dir/$1.pem" 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=isms-test-ca \
  -days 2 -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
cert server 127.0.0.1
cert client isms-test-client

frames() {  # frames TEXT N: N octet-counted frames
  for i in $(seq "$2"); do
    m="<13>1 2026-11-29T00:00:00Z host1 app 1 - - $1 $i"
    printf '%d %s' "${#m}" "$m"
  done
}

tls_send() {  # tls_send TEXT N [s_client options]: sends N frames over TLS
  local text=$1 n=$2
  shift 2
  frames "$text" "$n" | timeout 5 openssl s_client -quiet -no_ign_eof -verify_return_error \
    -CAfile "$dir/ca.pem" -connect "127.0.0.1:$port" "$@" >/dev/null 2>&1
}

"$isms" serve --listen none --contract c --syslog-tls 127.0.0.1:0 --tls-key "$dir/server.key" >/dev/null \
  2>"$dir/nocert"
check "--syslog-tls without --tls-cert: refused" 1 $?
check "--syslog-tls without --tls-cert: says so" 1 "$(grep -c -- '--tls-cert' "$dir/nocert")"
"$isms" serve --listen none --contract c --syslog-tls 127.0.0.1:0 --tls-cert "$dir/server.pem" \
  --tls-key "$dir/missing.key" >/dev/null 2>"$dir/nokey"
check "unreadable --tls-key: refused" 1 $?
check "unreadable --tls-key: names the file" 1 "$(grep -c "missing.key" "$dir/nokey")"

start_one --syslog-tls 127.0.0.1:0 --tls-cert "$dir/server.pem" --tls-key "$dir/server.key"
check "prints the tls listener" 1 \
  "$(grep -c "^listening: syslog tls 127.0.0.1:[0-9]* for contract c$" "$dir/out")"
tls_send tls-octet 5
check "octet-counted records over TLS committed" 5 "$(wait_count tls-octet 5)"
printf '<13>Nov 29 00:00:00 host1 app: tls-lf 1\n' |
  timeout 5 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$port" >/dev/null 2>&1
check "LF framing over TLS committed" 1 "$(wait_count tls-lf 1)"
frames tls-old 1 | timeout 5 openssl s_client -quiet -no_ign_eof -tls1_1 \
  -connect "127.0.0.1:$port" >/dev/null 2>&1
(frames tls-plain 3 >"/dev/tcp/127.0.0.1/$port") 2>/dev/null
sleep 0.3
stop
check "TLS 1.1: nothing committed" 0 "$(count tls-old)"
check "plain TCP to the TLS port: nothing committed" 0 "$(count tls-plain)"
check "failed handshakes are logged" yes \
  "$(grep -q 'tls handshake with 127.0.0.1 failed' "$dir/err" && echo yes)"

start_one --syslog-tls 127.0.0.1:0 --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
  --syslog-client-ca "$dir/ca.pem"
tls_send tls-anon 2
tls_send tls-client 4 -cert "$dir/client.pem" -key "$dir/client.key"
check "client certificate signed by the CA: accepted" 4 "$(wait_count tls-client 4)"
stop
check "--syslog-client-ca: a client without a certificate is refused" 0 "$(count tls-anon)"

# closed_within NAME LOW HIGH [BYTES]: connects to $port, writes BYTES (nothing when absent) and
# checks that the server closes the connection LOW to HIGH ms after it opened.
closed_within() {
  local t0 closed waited
  t0=$(date +%s%N)
  exec 4<>"/dev/tcp/127.0.0.1/$port"
  [ $# -ge 4 ] && printf '%s' "$4" >&4
  closed=$(timeout 5 cat <&4 >/dev/null && echo closed)
  waited=$((($(date +%s%N) - t0) / 1000000))
  exec 4<&-
  check "$1" closed "$closed"
  check "  not before it (waited ${waited} ms)" yes "$([ "$waited" -ge "$2" ] && echo yes)"
  check "  and not long after it" yes "$([ "$waited" -lt "$3" ] && echo yes)"
}

# Limits (docs/serve.md): a TLS connection that does not complete its handshake within
# --syslog-handshake-timeout is closed; a stream connection beyond --syslog-max-connections is
# closed at once, and those open go on.
start_one --syslog-tls 127.0.0.1:0 --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
  --syslog-handshake-timeout 0.5
closed_within "a silent TLS connection is closed at the handshake timeout" 450 3000
tls_send tls-after-timeout 2
check "TLS clients that complete their handshake are served" 2 "$(wait_count tls-after-timeout 2)"
stop
check "the handshake timeout is logged" 1 \
  "$(grep -c 'tls handshake with 127.0.0.1 failed: not completed within 500 ms' "$dir/err")"

# --syslog-idle-timeout (docs/serve.md): a stream connection that sends nothing for that long is
# closed, its last unterminated frame kept; one that keeps sending stays open; off by default.
start_one --syslog-tcp 127.0.0.1:0 --syslog-idle-timeout 1
closed_within "an idle TCP connection is closed at --syslog-idle-timeout" 950 4000 \
  $'<13>Nov 29 00:00:00 host1 app: idle-kept 1\n<13>Nov 29 00:00:00 host1 app: idle-kept 2'
check "  what it sent is kept, its unterminated last frame too" 2 "$(wait_count idle-kept 2)"
exec 4<>"/dev/tcp/127.0.0.1/$port"
for i in $(seq 20); do
  printf '<13>Nov 29 00:00:00 host1 app: idle-busy %d\n' "$i" >&4 2>/dev/null
  sleep 0.1
done
exec 4>&-
check "a connection that sends more often than the timeout stays open (2 s)" 20 \
  "$(wait_count idle-busy 20)"
stop
check "the idle close is logged" 1 \
  "$(grep -c 'closed tcp connection from 127.0.0.1: nothing received for 1000 ms (--syslog-idle-timeout; 1 closed so far)' "$dir/err")"
check "  and counted at the end" 1 "$(grep -c 'idle connections closed 1 for contract c' "$dir/err")"
start_one --syslog-tls 127.0.0.1:0 --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
  --syslog-idle-timeout 1
t0=$(date +%s%N)
timeout 6 openssl s_client -quiet -connect "127.0.0.1:$port" < <(frames idle-tls 1; sleep 5) \
  >/dev/null 2>&1
waited=$((($(date +%s%N) - t0) / 1000000))
check "an idle TLS connection is closed too (after ${waited} ms)" yes \
  "$([ "$waited" -ge 950 ] && [ "$waited" -lt 4000 ] && echo yes)"
check "  what it sent is kept" 1 "$(wait_count idle-tls 1)"
stop
check "  and logged" 1 "$(grep -c 'closed tls connection from 127.0.0.1: nothing received for 1000 ms' "$dir/err")"
start_one --syslog-tcp 127.0.0.1:0
exec 4<>"/dev/tcp/127.0.0.1/$port"
printf '<13>Nov 29 00:00:00 host1 app: idle-default 1\n' >&4
sleep 1.2
printf '<13>Nov 29 00:00:00 host1 app: idle-default 2\n' >&4
exec 4>&-
check "no idle timeout by default: a connection quiet for 1.2 s is served" 2 \
  "$(wait_count idle-default 2)"
stop
"$isms" serve --listen none --contract c --syslog-tcp 127.0.0.1:0 --syslog-idle-timeout -1 \
  >/dev/null 2>"$dir/idle-bad"
check "a negative --syslog-idle-timeout is refused (a usage error)" 2 $?
check "  naming the option" 1 "$(grep -c -- '--syslog-idle-timeout' "$dir/idle-bad")"

# SIGHUP (docs/serve.md): new TLS connections get the certificate now in the files, a connection
# already open goes on, and files that cannot be used leave the certificate in use.
cert renewed 127.0.0.1
cp "$dir/server.pem" "$dir/live.pem"
cp "$dir/server.key" "$dir/live.key"
start_one --syslog-tls 127.0.0.1:0 --tls-cert "$dir/live.pem" --tls-key "$dir/live.key"
fingerprint() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
served() {  # served [PORT]: the fingerprint of the certificate served on PORT (default $port)
  echo | timeout 5 openssl s_client -connect "127.0.0.1:${1:-$port}" 2>/dev/null | fingerprint
}
check "syslog tls: serves the certificate of --tls-cert" "$(fingerprint <"$dir/server.pem")" "$(served)"
mkfifo "$dir/open"
timeout 20 openssl s_client -quiet -connect "127.0.0.1:$port" <"$dir/open" >/dev/null 2>&1 &
exec 8>"$dir/open"
frames reload-open 1 >&8
check "a connection opened before SIGHUP is served" 1 "$(wait_count reload-open 1)"
cp "$dir/renewed.pem" "$dir/live.pem"
cp "$dir/renewed.key" "$dir/live.key"
kill -HUP "$server"
for _ in $(seq 50); do grep -q 'new syslog TLS connections use' "$dir/err" && break; sleep 0.1; done
check "SIGHUP: new connections get the renewed certificate" \
  "$(fingerprint <"$dir/renewed.pem")" "$(served)"
frames reload-after 1 >&8
exec 8>&-
check "  and the connection opened before goes on" 1 "$(wait_count reload-after 1)"
printf 'not a certificate\n' >"$dir/live.pem"
kill -HUP "$server"
for _ in $(seq 50); do grep -q 'certificate was not reloaded' "$dir/err" && break; sleep 0.1; done
check "SIGHUP with a damaged file: says so" 1 \
  "$(grep -c "syslog TLS certificate was not reloaded, the previous one stays in use: .*live.pem" "$dir/err")"
check "  and the renewed certificate stays in use" "$(fingerprint <"$dir/renewed.pem")" "$(served)"
check "SIGHUP does not stop serve" running "$(kill -0 "$server" && echo running)"
stop

start_one --syslog-tcp 127.0.0.1:0 --syslog-max-connections 2
exec 5<>"/dev/tcp/127.0.0.1/$port"
exec 6<>"/dev/tcp/127.0.0.1/$port"
sleep 0.2
exec 7<>"/dev/tcp/127.0.0.1/$port"
check "a connection beyond --syslog-max-connections is closed" closed \
  "$(timeout 5 cat <&7 >/dev/null && echo closed)"
exec 7<&-
printf '<13>Nov 29 00:00:00 host1 app: limit-open 1\n' >&5
printf '<13>Nov 29 00:00:00 host1 app: limit-open 2\n' >&6
exec 5>&- 6>&-
check "the connections within the limit are served" 2 "$(wait_count limit-open 2)"
printf '<13>Nov 29 00:00:00 host1 app: limit-later 1\n' >"/dev/tcp/127.0.0.1/$port"
check "a connection once others have closed is served" 1 "$(wait_count limit-later 1)"
stop
check "the refused connection is logged" 1 \
  "$(grep -c 'connections are open, the most --syslog-max-connections allows' "$dir/err")"
check "the refusals are counted at the end" 1 \
  "$(grep -c 'connections refused over the limit 1,' "$dir/err")"
"$isms" serve --listen none --contract c --syslog-tcp 127.0.0.1:0 --syslog-max-connections 0 \
  >/dev/null 2>"$dir/zero"
check "--syslog-max-connections 0: refused" 2 $?

# rsyslog forwarding to `isms serve` (docs/serve.md), when rsyslogd is installed: omfwd over TCP,
# and over TLS when rsyslog's OpenSSL network stream driver (rsyslog-openssl) is installed too.
rsyslogd=$(PATH=$PATH:/usr/sbin command -v rsyslogd)
ossl=$(ls /usr/lib/*/rsyslog/lmnsd_ossl.so 2>/dev/null)
if [ -n "$rsyslogd" ]; then
  start_one --syslog-tcp 127.0.0.1:0 --syslog-tls 127.0.0.1:0 --tls-cert "$dir/server.pem" \
    --tls-key "$dir/server.key"
  for _ in $(seq 100); do
    [ "$(grep -c '^listening' "$dir/out")" == 2 ] && break
    sleep 0.05
  done
  tcp_port=$(sed -nE 's/^listening: syslog tcp 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
  tls_port=$(sed -nE 's/^listening: syslog tls 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
  read -r in_tcp in_tls < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
  mkdir -p "$dir/rsyslog"
  cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/rsyslog" DefaultNetstreamDriverCAFile="$dir/ca.pem")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$in_tcp" ruleset="to_tcp")
ruleset(name="to_tcp") {
  action(type="omfwd" target="127.0.0.1" port="$tcp_port" protocol="tcp"
         TCP_Framing="octet-counted")
}
EOF
  if [ -n "$ossl" ]; then
    cat >>"$dir/rsyslog.conf" <<EOF
input(type="imtcp" address="127.0.0.1" port="$in_tls" ruleset="to_tls")
ruleset(name="to_tls") {
  action(type="omfwd" target="127.0.0.1" port="$tls_port" protocol="tcp"
         TCP_Framing="octet-counted" StreamDriver="ossl" StreamDriverMode="1"
         StreamDriverAuthMode="anon")
}
EOF
  fi
  "$rsyslogd" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" 2>>"$dir/err" &
  rsyslog=$!
  for _ in $(seq 100); do
    (: <>"/dev/tcp/127.0.0.1/$in_tcp") 2>/dev/null && break
    sleep 0.05
  done
  for i in 1 2 3; do
    printf '<13>Nov 29 00:00:00 rhost rapp[7]: rsyslog-fwd %d\n' "$i"
  done >"/dev/tcp/127.0.0.1/$in_tcp"
  check "rsyslog omfwd over tcp: committed" 3 "$(wait_count rsyslog-fwd 3)"
  "$isms" audit search --contract c --json --text rsyslog-fwd >"$dir/fwd.json"
  check "rsyslog omfwd over tcp: original host kept" 3 \
    "$(grep -c '"host": "rhost"' "$dir/fwd.json")"
  check "rsyslog omfwd over tcp: original app kept" 3 "$(grep -c '"app": "rapp"' "$dir/fwd.json")"
  if [ -n "$ossl" ]; then
    for i in 1 2 3; do
      printf '<13>Nov 29 00:00:00 thost tapp[8]: rsyslog-tls %d\n' "$i"
    done >"/dev/tcp/127.0.0.1/$in_tls"
    check "rsyslog omfwd over tls (ossl): committed" 3 "$(wait_count rsyslog-tls 3)"
    "$isms" audit search --contract c --json --text rsyslog-tls >"$dir/fwd.json"
    check "rsyslog omfwd over tls: original host kept" 3 \
      "$(grep -c '"host": "thost"' "$dir/fwd.json")"
    check "rsyslog omfwd over tls: original app kept" 3 "$(grep -c '"app": "tapp"' "$dir/fwd.json")"
  else
    echo "SKIP rsyslog forwarding over TLS: rsyslog-openssl is not installed"
  fi
  kill -TERM "$rsyslog"
  wait "$rsyslog"
  stop
else
  echo "SKIP rsyslog forwarding: rsyslogd is not installed"
fi
check "the log verifies after TLS and rsyslog" OK "$("$isms" audit verify --contract c | head -1 | cut -c1-2)"

# HTTPS (docs/serve.md "HTTPS"): without --tls-cert a self-signed certificate is made in the data
# folder (key mode 0600) and its fingerprint printed; TLS 1.2+ with HSTS; the same certificate
# at the next start; plain HTTP only on loopback; a given certificate is used as it is.
start_https() {  # start_https ARGS: sets server and https_port
  : >"$dir/out"
  "$isms" serve --listen 127.0.0.1:0 "$@" >"$dir/out" 2>>"$dir/err" &
  server=$!
  for _ in $(seq 200); do
    grep -q '^listening: http' "$dir/out" && break
    sleep 0.05
  done
  https_port=$(sed -nE 's/^listening: https? 127\.0\.0\.1:([0-9]+) .*/\1/p' "$dir/out")
}
start_https
check "https: prints its listener and URL" 1 \
  "$(grep -cE '^listening: https 127\.0\.0\.1:[0-9]+ \(https://127\.0\.0\.1:[0-9]+/\)$' "$dir/out")"
check "https: a self-signed certificate is made" 1 \
  "$(grep -c "^created self-signed certificate $dir/https-cert.pem$" "$dir/out")"
fp=$(openssl x509 -in "$dir/https-cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
check "https: its SHA-256 fingerprint is printed" 1 "$(grep -c "SHA-256 fingerprint $fp$" "$dir/out")"
check "https: the key is private" 600 "$(stat -c %a "$dir/https-key.pem")"
check "https: health over TLS" '{"status":"ok"}' \
  "$(curl -sk --tlsv1.2 "https://127.0.0.1:$https_port/healthz")"
check "https: HSTS" 1 "$(curl -skI "https://127.0.0.1:$https_port/healthz" |
  grep -ci '^strict-transport-security: max-age=31536000')"
check "https: no user, no API" 401 \
  "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$https_port/api/v1/me")"
stop
check "https: stops on SIGTERM and says what it answered" 1 "$(grep -c '^stopped: https answered' "$dir/out")"
start_https
check "https: the certificate is kept" 1 "$(grep -c "^using self-signed certificate" "$dir/out")"
check "https: the same fingerprint" 1 "$(grep -c "SHA-256 fingerprint $fp$" "$dir/out")"
stop
"$isms" serve --listen 0.0.0.0:0 --insecure-http >/dev/null 2>"$dir/plain"
check "plain http off loopback: refused" 1 $?
check "plain http off loopback: says why" 1 "$(grep -c 'loopback address only' "$dir/plain")"
start_https --insecure-http --syslog-tcp 127.0.0.1:0 --contract c
check "plain http on loopback: served" '{"status":"ok"}' \
  "$(curl -s "http://127.0.0.1:$https_port/healthz")"
check "https and syslog: the threads are named" "access-writer http isms syslog-io syslog-prepare syslog-writer wal-checkpoint" \
  "$(cat /proc/$server/task/*/comm | sort -u | tr '\n' ' ' | sed 's/ $//')"
stop
start_https --insecure-http --syslog-tcp 127.0.0.1:0 --syslog-tcp 127.0.0.1:0=second --contract c
curl -s "http://127.0.0.1:$https_port/metrics" >"$dir/metrics"
check "https and two contracts' syslog: the metrics of each" 2 \
  "$(grep -cE '^isms_syslog_records_total\{contract="(c|second)",state="received"\} [0-9]+$' "$dir/metrics")"
check "  with the connections closed when idle" 2 \
  "$(grep -cE '^isms_syslog_connections_closed_total\{contract="(c|second)",reason="idle"\} 0$' "$dir/metrics")"
stop
check "https and two contracts' syslog: each stops" 2 "$(grep -c '^stopped: received' "$dir/out")"
cp "$dir/server.pem" "$dir/live.pem"
cp "$dir/server.key" "$dir/live.key"
start_https --tls-cert "$dir/live.pem" --tls-key "$dir/live.key"
check "https with a given certificate: verified by its CA" '{"status":"ok"}' \
  "$(curl -s --cacert "$dir/ca.pem" "https://127.0.0.1:$https_port/healthz")"
cp "$dir/renewed.pem" "$dir/live.pem"
cp "$dir/renewed.key" "$dir/live.key"
kill -HUP "$server"
for _ in $(seq 50); do grep -q 'new HTTPS connections use' "$dir/err" && break; sleep 0.1; done
check "https: SIGHUP reloads the certificate" "$(fingerprint <"$dir/renewed.pem")" \
  "$(served "$https_port")"
check "https: still serving after SIGHUP" '{"status":"ok"}' \
  "$(curl -s --cacert "$dir/ca.pem" "https://127.0.0.1:$https_port/healthz")"
stop

# The signing key rotated while the server runs: its next checkpoint is signed by the new key,
# and the checkpoints of the old key still verify. (Last: the rotation's record goes to every
# contract's log, which fixes the chunk length of a log it begins.)
start
logger --server 127.0.0.1 --port "$tcp_port" --tcp --octet-count -t app "rotation-before"
check "rotation: a record before" 1 "$(wait_count rotation-before 1)"
"$isms" audit rotate-key >"$dir/rotate" 2>&1
check "rotation: rotate-key while the server runs" 0 $?
logger --server 127.0.0.1 --port "$tcp_port" --tcp --octet-count -t app "rotation-after"
check "rotation: a record after" 1 "$(wait_count rotation-after 1)"
"$isms" audit prove --contract c --index 0 >"$dir/rotation-proof.json"
check "rotation: the server's next checkpoint is signed by the new key" 0 \
  "$("$isms" audit verify-proof "$dir/rotation-proof.json" --public-key "$dir/audit-checkpoint.pub" >/dev/null 2>&1; echo $?)"
kill -TERM "$server"
wait "$server"
server=
check "rotation: the log verifies with both keys" OK "$("$isms" audit verify --contract c | head -1 | cut -c1-2)"

checks_done serve_test
