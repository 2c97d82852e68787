// The RFC 5424 records of the syslog benchmarks, shared by bench/syslog_send (the stream sent to
// rsyslog and isms) and bench/audit_bench (the same records prepared and stored directly): record
// i comes from host-(i mod HOSTS), with app kApps[i % 4] and text kTexts[i % 4] (an sshd log-on,
// a sudo command, a firewall block, a proxy request).
#pragma once

namespace isms::bench {

inline constexpr const char* kTexts[] = {
    "Accepted publickey for alice from 10.0.0.9 port 51234 ssh2: ED25519 SHA256:abc",
    "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
    "[UFW BLOCK] IN=eth1 OUT=eth0 SRC=10.0.0.23 DST=203.0.113.7 LEN=60 PROTO=TCP SPT=40001 "
    "DPT=4444",
    "1732838400.123    145 10.0.0.41 TCP_MISS/200 5120 GET http://updates.example.org/x - "
    "HIER_DIRECT",
};
inline constexpr const char* kApps[] = {"sshd", "sudo", "kernel", "squid"};

}  // namespace isms::bench
