#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "app/audit.h"
#include "cli/commands.h"
#include "net/cidr.h"
#include "net/http_server.h"
#include "net/memory_reserve.h"
#include "net/routes.h"
#include "net/syslog_server.h"
#include "net/tls_cert.h"
#include "net/web_app.h"
#include "store/store.h"

namespace isms::cli {

namespace {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// "https 127.0.0.1:8443" -> "https://127.0.0.1:8443/".
std::string UrlOf(const std::string& listening) {
  size_t space = listening.find(' ');
  return listening.substr(0, space) + "://" + listening.substr(space + 1) + "/";
}

// A duration option given in seconds (fractions allowed), to the millisecond; a positive one is
// at least 1 ms, so that it never becomes 0 ("never" for --syslog-idle-timeout).
std::chrono::milliseconds Milliseconds(double seconds) {
  if (seconds <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(seconds * 1000)));
}

// A syslog listener's option value: ADDR, or ADDR=CONTRACT for a listener of that contract.
struct ListenerSpec {
  std::string address, contract;  // contract "": --contract's (or the store's only one)
};
Result<ListenerSpec> ParseListenerSpec(const std::string& flag, const std::string& text) {
  const size_t eq = text.rfind('=');
  if (eq == std::string::npos) return ListenerSpec{text, ""};
  if (eq == 0 || eq + 1 == text.size()) {
    return Status::InvalidArgument(flag + " '" + text +
                                   "': write ADDR, or ADDR=CONTRACT for a listener of that "
                                   "contract (e.g. 0.0.0.0:601=acme)");
  }
  return ListenerSpec{text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace

void Serve(Context& ctx, const ServeOptions& o) {
  std::optional<std::string> flag;
  if (!o.store.store.empty()) flag = o.store.store;
  Result<std::string> url = store::ResolveStoreUrl(flag);
  if (!url.ok()) return ctx.Fail(url.status());

  std::vector<std::string> listen = o.listen;
  if (listen.empty()) listen.push_back("127.0.0.1:8443");
  bool http = !(listen.size() == 1 && listen[0] == "none");
  bool syslog = !o.syslog_tcp.empty() || !o.syslog_udp.empty() || !o.syslog_tls.empty();
  if (!http && !syslog) {
    return ctx.Fail(Status::InvalidArgument(
        "nothing to serve: --listen none and no --syslog-tcp, --syslog-tls or --syslog-udp"));
  }
  if (!o.client_ca.empty() && o.syslog_tls.empty()) {
    return ctx.Fail(Status::InvalidArgument("--syslog-client-ca needs --syslog-tls ADDR"));
  }
  if ((!o.tls_cert.empty() || !o.tls_key.empty()) && o.syslog_tls.empty() &&
      (!http || o.insecure_http)) {
    return ctx.Fail(Status::InvalidArgument(
        "--tls-cert and --tls-key are for HTTPS and --syslog-tls; neither is served"));
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return ctx.Fail(Status::InvalidArgument("give both --tls-cert and --tls-key, or neither"));
  }

  // Freed memory kept for the next batch (glibc's malloc only: net/memory_reserve.h).
  net::KeepFreedMemory();

  // Syslog listeners: one server (queue, writer, listeners) for each contract they feed.
  std::vector<std::unique_ptr<net::SyslogServer>> syslog_servers;
  net::SyslogServerOptions so;
  if (syslog) {
    so.store_url = *url;
    so.key_dir = o.key_dir;
    so.tls_cert = o.tls_cert;
    so.tls_key = o.tls_key;
    so.client_ca = o.client_ca;
    so.max_connections = o.max_connections;
    so.handshake_timeout = Milliseconds(o.handshake_timeout);
    so.idle_timeout = Milliseconds(o.idle_timeout);
    so.prepare_threads = o.syslog_threads;
    for (const std::string& text : o.allow) {
      Result<net::Cidr> c = net::Cidr::Parse(text);
      if (!c.ok()) return ctx.Fail(c.status().WithContext("--syslog-allow"));
      so.allow.push_back(*c);
    }
    // The listeners of each contract named (or of --contract), in the order first given.
    std::vector<net::SyslogServerOptions> groups;
    auto group_of = [&](const std::string& contract) -> net::SyslogServerOptions& {
      const std::string name = contract.empty() ? o.contract : contract;
      for (net::SyslogServerOptions& g : groups) {
        if (g.contract == name) return g;
      }
      groups.push_back(so);
      groups.back().contract = name;
      return groups.back();
    };
    for (const auto& [flag, list, member] :
         {std::tuple{"--syslog-tcp", &o.syslog_tcp, &net::SyslogServerOptions::tcp},
          std::tuple{"--syslog-tls", &o.syslog_tls, &net::SyslogServerOptions::tls},
          std::tuple{"--syslog-udp", &o.syslog_udp, &net::SyslogServerOptions::udp}}) {
      for (const std::string& text : *list) {
        Result<ListenerSpec> spec = ParseListenerSpec(flag, text);
        if (!spec.ok()) return ctx.Fail(spec.status());
        (group_of(spec->contract).*member).push_back(spec->address);
      }
    }
    for (const net::SyslogServerOptions& g : groups) {
      Result<std::unique_ptr<net::SyslogServer>> server =
          net::SyslogServer::Create(g, ctx.clock, ctx.err);
      if (!server.ok()) return ctx.Fail(server.status().WithContext("isms serve did not start"));
      for (const auto& other : syslog_servers) {
        if (other->contract() == (*server)->contract()) {
          return ctx.Fail(Status::InvalidArgument(
              "isms serve did not start: listeners given apart feed the same contract " +
              other->contract() + "; name it the same way on each (--contract " +
              other->contract() + ", or ADDR=" + other->contract() + " on every listener)"));
        }
      }
      syslog_servers.push_back(std::move(*server));
    }
    // Before "listening" is printed: a sender may begin at once.
    if (const size_t mib = o.syslog_memory * syslog_servers.size(); mib > 0) {
      const net::MemoryReserve r = net::ReserveMemory(mib << 20);
      ctx.err << "isms serve: reserved " << mib << " MiB of memory for the syslog listeners ("
              << r.allocator << "; " << (r.huge_bytes >> 20)
              << " MiB of the process's memory in huge pages; kept, not returned to the system; "
                 "--syslog-memory)"
              << std::endl;
    }
  }

  // HTTPS.
  std::unique_ptr<net::WebApp> web;
  std::unique_ptr<net::HttpServer> http_server;
  std::string fingerprint_line;
  if (http) {
    net::HttpServerOptions ho;
    ho.listen = listen;
    ho.threads = o.threads;
    ho.max_connections = o.http_max_connections;
    ho.tls = !o.insecure_http;
    if (ho.tls && o.tls_cert.empty()) {
      Result<std::string> dir = app::AuditKeyDir(*url, o.key_dir);
      if (!dir.ok()) {
        return ctx.Fail(dir.status().WithContext(
            "the self-signed HTTPS certificate needs a data folder (--key-dir), or give "
            "--tls-cert and --tls-key"));
      }
      Result<net::SelfSignedCert> cert = net::EnsureSelfSignedCert(*dir, HostName());
      if (!cert.ok()) return ctx.Fail(cert.status().WithContext("isms serve did not start"));
      ho.tls_cert = cert->cert_path;
      ho.tls_key = cert->key_path;
      fingerprint_line = std::string(cert->created ? "created" : "using") +
                         " self-signed certificate " + cert->cert_path +
                         "\n  SHA-256 fingerprint " + cert->fingerprint + "\n";
    } else if (ho.tls) {
      ho.tls_cert = o.tls_cert;
      ho.tls_key = o.tls_key;
      Result<std::string> fp = net::CertificateFingerprint(o.tls_cert);
      if (fp.ok()) {
        fingerprint_line = "certificate " + o.tls_cert + "\n  SHA-256 fingerprint " + *fp + "\n";
      }
    }
    net::WebAppOptions wo;
    wo.store_url = *url;
    wo.key_dir = o.key_dir;
    wo.tls = ho.tls;
    Result<std::unique_ptr<net::WebApp>> w = net::WebApp::Create(wo, ctx.clock, ctx.err);
    if (!w.ok()) return ctx.Fail(w.status().WithContext("isms serve did not start"));
    web = std::move(*w);
    net::AddAllRoutes(*web);
    for (const auto& server : syslog_servers) {
      net::SyslogServer* s = server.get();
      web->AddMetricsSource([s] {
        const net::SyslogServerStats st = s->stats();
        std::string out;
        // One counter family: its HELP and TYPE lines, then a series a label value.
        auto family = [&](const char* name, const char* help, const char* label,
                          std::initializer_list<std::pair<const char*, std::uint64_t>> series) {
          out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
          for (const auto& [value, n] : series) {
            out += std::string(name) + "{contract=\"" + s->contract() + "\"," + label + "=\"" +
                   value + "\"} " + std::to_string(n) + "\n";
          }
        };
        family("isms_syslog_records_total", "Syslog records received and committed.", "state",
               {{"received", st.received},
                {"committed", st.committed},
                {"udp_dropped", st.udp_dropped}});
        family("isms_syslog_connections_refused_total",
               "Syslog connections and datagrams refused, by reason.", "reason",
               {{"sender_not_allowed", st.refused_senders},
                {"over_limit", st.refused_over_limit},
                {"handshake_timeout", st.handshake_timeouts}});
        family("isms_syslog_connections_closed_total",
               "Syslog connections the server closed, by reason.", "reason",
               {{"idle", st.idle_closed}});
        return out;
      });
    }
    net::WebApp* app = web.get();
    Result<std::unique_ptr<net::HttpServer>> hs = net::HttpServer::Create(
        ho, [app](net::HttpRequest& r) { return app->Handle(r); }, ctx.err);
    if (!hs.ok()) return ctx.Fail(hs.status().WithContext("isms serve did not start"));
    http_server = std::move(*hs);
  }

  if (http_server) {
    for (const std::string& l : http_server->listening()) {
      ctx.out << "listening: " << l << " (" << UrlOf(l) << ")\n";
    }
    ctx.out << fingerprint_line;
  }
  for (const auto& server : syslog_servers) {
    for (const std::string& l : server->listening()) {
      ctx.out << "listening: syslog " << l << " for contract " << server->contract() << "\n";
    }
  }
  if (!so.allow.empty()) {
    ctx.out << "accepting senders in:";
    for (const net::Cidr& c : so.allow) ctx.out << " " << c.ToString();
    ctx.out << "\n";
  }
  ctx.out.flush();

  // Every server runs until SIGTERM or SIGINT (each listens for it); when one stops, so do the
  // others. The syslog servers run on threads of their own but the last, which runs on this one
  // when HTTPS is not served.
  std::vector<Status> syslog_status(syslog_servers.size());
  Status http_status;
  const auto stop_all = [&] {
    for (const auto& server : syslog_servers) server->Stop();
    if (http_server) http_server->Stop();
  };
  std::vector<std::thread> threads;
  const size_t on_threads = http_server ? syslog_servers.size() : syslog_servers.size() - 1;
  for (size_t i = 0; i < on_threads; ++i) {
    threads.emplace_back([&, i] {
      syslog_status[i] = syslog_servers[i]->Run();
      stop_all();
    });
  }
  if (http_server) {
    http_status = http_server->Run();
  } else {
    syslog_status.back() = syslog_servers.back()->Run();
  }
  stop_all();
  for (std::thread& t : threads) t.join();
  Status audit_status = web ? web->FlushAudit() : Status::Ok();
  if (http_server) {
    net::HttpServerStats hs = http_server->stats();
    ctx.out << "stopped: https answered " << hs.requests << " requests on " << hs.connections
            << " connections\n";
  }
  for (const auto& server : syslog_servers) {
    net::SyslogServerStats s = server->stats();
    ctx.out << "stopped: received " << s.received << ", committed " << s.committed
            << ", udp dropped " << s.udp_dropped << " for contract " << server->contract() << "\n";
  }
  ctx.out.flush();
  for (const Status& st : syslog_status) {
    if (!st.ok()) return ctx.Fail(st);
  }
  if (!http_status.ok()) return ctx.Fail(http_status);
  if (!audit_status.ok()) ctx.Fail(audit_status);
}

}  // namespace isms::cli
