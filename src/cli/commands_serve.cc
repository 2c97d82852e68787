#include <ostream>

#include "cli/commands.h"
#include "net/cidr.h"
#include "net/syslog_server.h"
#include "store/store.h"

namespace isms::cli {

void Serve(Context& ctx, const ServeOptions& o) {
  net::SyslogServerOptions so;
  std::optional<std::string> flag;
  if (!o.store.store.empty()) flag = o.store.store;
  Result<std::string> url = store::ResolveStoreUrl(flag);
  if (!url.ok()) return ctx.Fail(url.status());
  so.store_url = *url;
  so.key_dir = o.key_dir;
  so.contract = o.contract;
  so.tcp = o.syslog_tcp;
  so.udp = o.syslog_udp;
  so.tls = o.syslog_tls;
  so.tls_cert = o.tls_cert;
  so.tls_key = o.tls_key;
  so.client_ca = o.client_ca;
  if (so.tls.empty() && (!so.tls_cert.empty() || !so.tls_key.empty() || !so.client_ca.empty())) {
    return ctx.Fail(Status::InvalidArgument(
        "--tls-cert, --tls-key and --syslog-client-ca need --syslog-tls ADDR"));
  }
  for (const std::string& text : o.allow) {
    Result<net::Cidr> c = net::Cidr::Parse(text);
    if (!c.ok()) return ctx.Fail(c.status().WithContext("--syslog-allow"));
    so.allow.push_back(*c);
  }
  if (so.tcp.empty() && so.udp.empty() && so.tls.empty()) {
    return ctx.Fail(Status::InvalidArgument(
        "nothing to serve: give --syslog-tcp ADDR, --syslog-tls ADDR and/or --syslog-udp ADDR"));
  }
  Result<std::unique_ptr<net::SyslogServer>> server =
      net::SyslogServer::Create(so, ctx.clock, ctx.err);
  if (!server.ok()) return ctx.Fail(server.status().WithContext("isms serve did not start"));
  for (const std::string& l : (*server)->listening()) {
    ctx.out << "listening: syslog " << l << " for contract " << (*server)->contract() << "\n";
  }
  if (!so.allow.empty()) {
    ctx.out << "accepting senders in:";
    for (const net::Cidr& c : so.allow) ctx.out << " " << c.ToString();
    ctx.out << "\n";
  }
  ctx.out.flush();
  Status st = (*server)->Run();
  net::SyslogServerStats s = (*server)->stats();
  ctx.out << "stopped: received " << s.received << ", committed " << s.committed << ", udp dropped "
          << s.udp_dropped << "\n";
  ctx.out.flush();
  if (!st.ok()) ctx.Fail(st);
}

}  // namespace isms::cli
