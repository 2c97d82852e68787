// Synthetic scanner reports for the import benchmark (scripts/bench-import.sh): a Nessus v2 file
// or a Trivy JSON report of N hosts (or images) and M findings, shaped and sized like real ones.
//
//   gen_scans --format nessus|trivy --hosts N --findings M --seed S --scan-time RFC3339 -o FILE
//             [--cluster NAME]
//
// The same seed gives the same hosts and findings whatever the scan time, so a second file with
// a later --scan-time is a second scan of the same estate (a real re-import, not a duplicate).
//
// Nessus: one ReportHost per host with HostProperties (host-ip, host-fqdn, HOST_START_TIMESTAMP,
// Credentialed_Scan, ...) and ReportItems drawn from a catalogue of plugins: severity 0-4 mix,
// risk_factor, CVSS v3 and v2 vectors consistent with the severity (scored with core/cvss.h),
// CVEs (several for some), patch_publication_date for about 40% of the items, description,
// synopsis, solution and plugin_output of realistic length. About 1.7 KB per item.
// Trivy: a Kubernetes cluster report (`trivy k8s --format json`), one Resource per image with an
// OS-package Result and, for some, a language-package Result; Vulnerabilities with PkgName,
// InstalledVersion, FixedVersion for about 60%, Severity, CVSS nvd V3Vector, PublishedDate,
// Title, Description, References. About 1.9 KB per vulnerability. --cluster names the cluster
// (default "estate-prod"; "" writes an empty ClusterName, so that no finding names a cluster).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/cvss.h"
#include "core/time.h"

namespace {

using Rng = std::mt19937_64;

// Buffered output to a FILE*.
class Out {
 public:
  explicit Out(std::FILE* f) : f_(f) { buf_.reserve(kFlush + 65536); }
  ~Out() { Flush(); }
  Out& operator<<(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= kFlush) Flush();
    return *this;
  }
  Out& operator<<(long v) { return *this << std::string_view(std::to_string(v)); }
  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      std::perror("gen_scans: write");
      std::exit(1);
    }
    buf_.clear();
  }

 private:
  static constexpr size_t kFlush = 4 << 20;
  std::FILE* f_;
  std::string buf_;
};

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

long Uniform(Rng& rng, long lo, long hi) {  // [lo, hi]
  return std::uniform_int_distribution<long>(lo, hi)(rng);
}
bool Chance(Rng& rng, double p) {
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}
template <typename T, size_t N>
const T& Pick(Rng& rng, const std::array<T, N>& a) {
  return a[static_cast<size_t>(Uniform(rng, 0, N - 1))];
}

constexpr std::array<std::string_view, 64> kWords = {"remote",
                                                     "attacker",
                                                     "could",
                                                     "exploit",
                                                     "vulnerability",
                                                     "allowing",
                                                     "arbitrary",
                                                     "code",
                                                     "execution",
                                                     "the",
                                                     "affected",
                                                     "version",
                                                     "of",
                                                     "is",
                                                     "prior",
                                                     "to",
                                                     "therefore",
                                                     "by",
                                                     "sending",
                                                     "a",
                                                     "specially",
                                                     "crafted",
                                                     "request",
                                                     "which",
                                                     "may",
                                                     "lead",
                                                     "denial",
                                                     "service",
                                                     "memory",
                                                     "corruption",
                                                     "in",
                                                     "handling",
                                                     "certificate",
                                                     "validation",
                                                     "buffer",
                                                     "overflow",
                                                     "component",
                                                     "when",
                                                     "processing",
                                                     "untrusted",
                                                     "input",
                                                     "an",
                                                     "unauthenticated",
                                                     "local",
                                                     "user",
                                                     "privileges",
                                                     "escalate",
                                                     "information",
                                                     "disclosure",
                                                     "through",
                                                     "improper",
                                                     "bounds",
                                                     "check",
                                                     "heap",
                                                     "use-after-free",
                                                     "session",
                                                     "authentication",
                                                     "bypass",
                                                     "configuration",
                                                     "default",
                                                     "settings",
                                                     "server",
                                                     "client",
                                                     "library"};

// A few sentences of plausible advisory prose, about `bytes` long.
std::string Prose(Rng& rng, size_t bytes) {
  std::string s;
  bool start = true;
  while (s.size() < bytes) {
    std::string w(Pick(rng, kWords));
    if (start) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    s += w;
    start = Chance(rng, 0.07);
    s += start ? ". " : " ";
  }
  s.back() = '.';
  return s;
}

// A CVSS v3.1 vector whose NVD rating is `want` (1 Low .. 4 Critical), and its v2 counterpart.
struct Vectors {
  std::string v3;
  double v3_score = 0;
  std::string v2;
  double v2_score = 0;
};

Vectors VectorsFor(Rng& rng, int want) {
  static constexpr std::array<std::string_view, 4> kAv = {"N", "A", "L", "P"};
  static constexpr std::array<std::string_view, 2> kAc = {"L", "H"};
  static constexpr std::array<std::string_view, 3> kPr = {"N", "L", "H"};
  static constexpr std::array<std::string_view, 2> kUi = {"N", "R"};
  static constexpr std::array<std::string_view, 2> kS = {"U", "C"};
  static constexpr std::array<std::string_view, 3> kCia = {"N", "L", "H"};
  Vectors v;
  for (int attempt = 0; attempt < 10000; ++attempt) {
    std::string s = "CVSS:3.1/AV:" + std::string(Pick(rng, kAv)) +
                    "/AC:" + std::string(Pick(rng, kAc)) + "/PR:" + std::string(Pick(rng, kPr)) +
                    "/UI:" + std::string(Pick(rng, kUi)) + "/S:" + std::string(Pick(rng, kS)) +
                    "/C:" + std::string(Pick(rng, kCia)) + "/I:" + std::string(Pick(rng, kCia)) +
                    "/A:" + std::string(Pick(rng, kCia));
    isms::Result<isms::CvssScore> sc = isms::ScoreCvss(s);
    if (!sc.ok() || static_cast<int>(sc->base_rating) != want) continue;
    v.v3 = s;
    v.v3_score = sc->base_score;
    break;
  }
  static constexpr std::array<std::string_view, 3> kV2Av = {"N", "A", "L"};
  static constexpr std::array<std::string_view, 3> kV2Ac = {"L", "M", "H"};
  static constexpr std::array<std::string_view, 3> kV2Au = {"N", "S", "M"};
  static constexpr std::array<std::string_view, 3> kV2Cia = {"N", "P", "C"};
  v.v2 = "AV:" + std::string(Pick(rng, kV2Av)) + "/AC:" + std::string(Pick(rng, kV2Ac)) +
         "/Au:" + std::string(Pick(rng, kV2Au)) + "/C:" + std::string(Pick(rng, kV2Cia)) +
         "/I:" + std::string(Pick(rng, kV2Cia)) + "/A:" + std::string(Pick(rng, kV2Cia));
  isms::Result<isms::CvssScore> s2 = isms::ScoreCvss("CVSS2#" + v.v2);
  v.v2_score = s2.ok() ? s2->base_score : 0;
  return v;
}

std::string Score(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

std::string SlashDate(int y, int m, int d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d", y, m, d);
  return buf;
}

std::string IsoDate(int y, int m, int d) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:15:00Z", y, m, d, (y + m + d) % 24);
  return buf;
}

std::string CveId(Rng& rng) {
  return "CVE-" + std::to_string(Uniform(rng, 2014, 2025)) + "-" +
         std::to_string(Uniform(rng, 1000, 49999));
}

// Severity 0-4 in the proportions of a typical credentialed infrastructure scan.
int SeverityMix(Rng& rng) {
  const double x = std::uniform_real_distribution<double>(0, 1)(rng);
  if (x < 0.35) return 0;
  if (x < 0.45) return 1;
  if (x < 0.75) return 2;
  if (x < 0.93) return 3;
  return 4;
}

constexpr std::array<std::string_view, 5> kRisk = {"None", "Low", "Medium", "High", "Critical"};
constexpr std::array<std::string_view, 5> kTrivySeverity = {"UNKNOWN", "LOW", "MEDIUM", "HIGH",
                                                            "CRITICAL"};

// Picks distinct catalogue entries for one host: a skewed pick (common plugins or packages
// appear on many hosts), without repeats.
std::vector<size_t> PickDistinct(Rng& rng, size_t catalogue, size_t count) {
  std::set<size_t> chosen;
  std::vector<size_t> out;
  while (out.size() < count) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    size_t i = static_cast<size_t>(u * u * static_cast<double>(catalogue));
    if (i >= catalogue) i = catalogue - 1;
    if (chosen.insert(i).second) out.push_back(i);
  }
  return out;
}

// Findings per host: about M/N each, varying by ±50%, summing to exactly M.
std::vector<long> Spread(Rng& rng, long hosts, long findings, long cap) {
  std::vector<double> w(static_cast<size_t>(hosts));
  double total = 0;
  for (double& x : w) total += (x = std::uniform_real_distribution<double>(0.5, 1.5)(rng));
  std::vector<long> n(w.size());
  long sum = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    n[i] = std::min(cap, static_cast<long>(w[i] / total * static_cast<double>(findings)));
    sum += n[i];
  }
  for (size_t i = 0; sum < findings; i = (i + 1) % n.size()) {
    if (n[i] < cap) {
      ++n[i];
      ++sum;
    }
  }
  return n;
}

struct Options {
  std::string format;
  long hosts = 5000;
  long findings = 200000;
  unsigned long seed = 1;
  isms::Instant scan_time{};
  std::string out;
  std::string cluster = "estate-prod";
};

// ---- Nessus ----

struct Plugin {
  long id;
  std::string name, family, fname, synopsis, description, solution, see_also, cpe;
  int severity;
  Vectors vectors;
  bool has_v3, has_v2;
  std::vector<std::string> cves;
  std::string patch_date, vuln_date, plugin_date;
  bool exploit;
  std::string port, protocol, svc;
};

std::vector<Plugin> NessusCatalogue(Rng& rng, size_t size) {
  static constexpr std::array<std::string_view, 8> kFamilies = {"Windows : Microsoft Bulletins",
                                                                "Ubuntu Local Security Checks",
                                                                "Web Servers",
                                                                "General",
                                                                "Misc.",
                                                                "Red Hat Local Security Checks",
                                                                "Service detection",
                                                                "Databases"};
  static constexpr std::array<std::string_view, 12> kProducts = {
      "OpenSSL",      "Apache HTTP Server", "Microsoft Windows", "OpenSSH", "nginx",
      "PostgreSQL",   "Oracle Java SE",     "Microsoft Edge",    "Samba",   "curl",
      "Linux Kernel", "VMware Tools"};
  struct Svc {
    std::string_view port, protocol, svc;
  };
  static constexpr std::array<Svc, 9> kSvcs = {{{"0", "tcp", "general"},
                                                {"22", "tcp", "ssh"},
                                                {"443", "tcp", "www"},
                                                {"80", "tcp", "www"},
                                                {"445", "tcp", "cifs"},
                                                {"3389", "tcp", "msrdp"},
                                                {"123", "udp", "ntp"},
                                                {"5432", "tcp", "postgresql"},
                                                {"0", "tcp", "general"}}};
  std::vector<Plugin> plugins;
  std::set<long> ids;
  for (size_t i = 0; i < size; ++i) {
    Plugin p;
    do p.id = Uniform(rng, 10000, 250000);
    while (!ids.insert(p.id).second);
    p.severity = SeverityMix(rng);
    const std::string product(Pick(rng, kProducts));
    const std::string version = std::to_string(Uniform(rng, 1, 12)) + "." +
                                std::to_string(Uniform(rng, 0, 9)) + "." +
                                std::to_string(Uniform(rng, 0, 30));
    p.family = std::string(Pick(rng, kFamilies));
    p.fname = "plugin_" + std::to_string(p.id) + ".nasl";
    const Svc& s = Pick(rng, kSvcs);
    p.port = std::string(s.port);
    p.protocol = std::string(s.protocol);
    p.svc = std::string(s.svc);
    if (p.severity == 0) {
      p.name = product + " Detection (" + std::to_string(p.id) + ")";
      p.synopsis = "It was possible to identify " + product + " on the remote host.";
      p.description = Prose(rng, static_cast<size_t>(Uniform(rng, 150, 400)));
      p.solution = "n/a";
      p.has_v3 = p.has_v2 = false;
    } else {
      p.name =
          product + " < " + version + " Multiple Vulnerabilities (" + std::to_string(p.id) + ")";
      p.synopsis = "The remote host is affected by multiple vulnerabilities in " + product + ".";
      p.description = "The version of " + product + " installed on the remote host is prior to " +
                      version + ". " + Prose(rng, static_cast<size_t>(Uniform(rng, 250, 700)));
      p.solution = "Upgrade " + product + " to version " + version +
                   " or later.\nAlternatively, apply the vendor's workaround where one exists.";
      p.vectors = VectorsFor(rng, p.severity);
      p.has_v3 = Chance(rng, 0.9);
      p.has_v2 = Chance(rng, 0.85);
      const long ncve = Chance(rng, 0.3) ? Uniform(rng, 2, 8) : Uniform(rng, 0, 1);
      for (long k = 0; k < ncve; ++k) p.cves.push_back(CveId(rng));
      p.cpe = "cpe:/a:vendor:" + product.substr(0, product.find(' ')) + ":" + version;
    }
    const int y = static_cast<int>(Uniform(rng, 2016, 2025));
    const int m = static_cast<int>(Uniform(rng, 1, 12));
    const int d = static_cast<int>(Uniform(rng, 1, 28));
    // ~40% of all items carry a patch date: most vulnerabilities, no detections.
    if (p.severity > 0 && Chance(rng, 0.62)) p.patch_date = SlashDate(y, m, d);
    if (p.severity > 0) p.vuln_date = SlashDate(y, m, std::max(1, d - 3));
    p.plugin_date = SlashDate(y, m, std::min(28, d + 2));
    p.see_also = "https://www.example-vendor.com/security/advisories/" + std::to_string(p.id) +
                 "\nhttps://nvd.nist.gov/vuln/detail/" +
                 (p.cves.empty() ? std::string("none") : p.cves.front());
    p.exploit = p.severity >= 3 && Chance(rng, 0.25);
    plugins.push_back(std::move(p));
  }
  return plugins;
}

std::string CtimeOf(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Y", &tm);
  return buf;
}

void WriteNessus(const Options& o, Out& out) {
  Rng rng(o.seed);
  const std::vector<Plugin> plugins = NessusCatalogue(rng, 3000);
  std::vector<std::string> desc(plugins.size()), sol(plugins.size()), syn(plugins.size()),
      name(plugins.size()), also(plugins.size());
  for (size_t i = 0; i < plugins.size(); ++i) {
    desc[i] = XmlEscape(plugins[i].description);
    sol[i] = XmlEscape(plugins[i].solution);
    syn[i] = XmlEscape(plugins[i].synopsis);
    name[i] = XmlEscape(plugins[i].name);
    also[i] = XmlEscape(plugins[i].see_also);
  }
  const std::vector<long> per_host =
      Spread(rng, o.hosts, o.findings, static_cast<long>(plugins.size()));
  const std::time_t start =
      std::chrono::duration_cast<std::chrono::seconds>(o.scan_time.time_since_epoch()).count();

  out << "<?xml version=\"1.0\" ?>\n<NessusClientData_v2>\n<Policy><policyName>Monthly "
         "Credentialed Scan</policyName>\n<Preferences><ServerPreferences><preference><name>"
         "max_hosts</name><value>30</value></preference></ServerPreferences></Preferences>\n"
         "</Policy>\n<Report name=\"Estate monthly\" xmlns:cm=\"http://www.nessus.org/cm\">\n";
  for (long h = 0; h < o.hosts; ++h) {
    // The host's identity and findings depend on the seed only; its times on --scan-time.
    Rng hr(o.seed * 1000003 + static_cast<unsigned long>(h));
    const std::string ip = "10." + std::to_string(h / 65536 % 256) + "." +
                           std::to_string(h / 256 % 256) + "." + std::to_string(h % 256);
    const std::string fqdn = "srv" + std::to_string(h) + ".estate.example.gov.uk";
    const bool windows = Chance(hr, 0.4);
    const bool credentialed = Chance(hr, 0.97);
    const std::time_t host_start = start + h * 3;
    const std::time_t host_end = host_start + Uniform(hr, 120, 1800);
    out << "<ReportHost name=\"" << ip << "\"><HostProperties>\n"
        << "<tag name=\"HOST_END\">" << CtimeOf(host_end) << "</tag>\n"
        << "<tag name=\"HOST_END_TIMESTAMP\">" << static_cast<long>(host_end) << "</tag>\n"
        << "<tag name=\"LastAuthenticatedResults\">" << static_cast<long>(host_end) << "</tag>\n"
        << "<tag name=\"Credentialed_Scan\">" << (credentialed ? "true" : "false") << "</tag>\n"
        << "<tag name=\"operating-system\">"
        << (windows ? "Microsoft Windows Server 2019 Standard"
                    : "Linux Kernel 5.15 on Ubuntu 22.04")
        << "</tag>\n"
        << "<tag name=\"system-type\">general-purpose</tag>\n"
        << "<tag name=\"mac-address\">00:50:56:" << std::to_string(10 + h % 80) << ":"
        << std::to_string(10 + h / 80 % 80) << ":" << std::to_string(10 + h / 6400 % 80)
        << "</tag>\n"
        << "<tag name=\"host-fqdn\">" << fqdn << "</tag>\n"
        << "<tag name=\"host-ip\">" << ip << "</tag>\n"
        << "<tag name=\"HOST_START_TIMESTAMP\">" << static_cast<long>(host_start) << "</tag>\n"
        << "<tag name=\"HOST_START\">" << CtimeOf(host_start) << "</tag>\n"
        << "</HostProperties>\n";
    for (size_t i : PickDistinct(hr, plugins.size(), static_cast<size_t>(per_host[h]))) {
      const Plugin& p = plugins[i];
      out << "<ReportItem port=\"" << p.port << "\" svc_name=\"" << p.svc << "\" protocol=\""
          << p.protocol << "\" severity=\"" << static_cast<long>(p.severity) << "\" pluginID=\""
          << p.id << "\" pluginName=\"" << name[i] << "\" pluginFamily=\"" << p.family << "\">\n"
          << "<agent>all</agent>\n";
      if (p.has_v3) {
        out << "<cvss3_base_score>" << Score(p.vectors.v3_score) << "</cvss3_base_score>\n"
            << "<cvss3_vector>" << p.vectors.v3 << "</cvss3_vector>\n";
      }
      if (p.has_v2) {
        out << "<cvss_base_score>" << Score(p.vectors.v2_score) << "</cvss_base_score>\n"
            << "<cvss_vector>CVSS2#" << p.vectors.v2 << "</cvss_vector>\n";
      }
      if (!p.cpe.empty()) out << "<cpe>" << p.cpe << "</cpe>\n";
      out << "<description>" << desc[i] << "</description>\n"
          << "<fname>" << p.fname << "</fname>\n"
          << "<plugin_modification_date>" << p.plugin_date << "</plugin_modification_date>\n"
          << "<plugin_name>" << name[i] << "</plugin_name>\n"
          << "<plugin_publication_date>" << p.plugin_date << "</plugin_publication_date>\n"
          << "<plugin_type>" << (p.severity == 0 ? "remote" : "local") << "</plugin_type>\n"
          << "<risk_factor>" << kRisk[static_cast<size_t>(p.severity)] << "</risk_factor>\n"
          << "<script_version>1." << Uniform(hr, 2, 40) << "</script_version>\n"
          << "<see_also>" << also[i] << "</see_also>\n"
          << "<solution>" << sol[i] << "</solution>\n"
          << "<synopsis>" << syn[i] << "</synopsis>\n";
      if (!p.patch_date.empty()) {
        out << "<patch_publication_date>" << p.patch_date << "</patch_publication_date>\n";
      }
      if (!p.vuln_date.empty()) {
        out << "<vuln_publication_date>" << p.vuln_date << "</vuln_publication_date>\n";
      }
      if (p.exploit) {
        out << "<exploit_available>true</exploit_available>\n"
            << "<exploitability_ease>Exploits are available</exploitability_ease>\n";
      }
      for (const std::string& c : p.cves) out << "<cve>" << c << "</cve>\n";
      if (!p.cves.empty()) out << "<xref>IAVA:2023-A-" << Uniform(hr, 1, 900) << "</xref>\n";
      out << "<plugin_output>\n";
      if (p.severity == 0) {
        out << "  Path    : " << (windows ? "C:\\Program Files\\Vendor\\" : "/usr/lib/vendor/")
            << std::to_string(p.id) << "\n  Version : " << std::to_string(Uniform(hr, 1, 9)) << "."
            << std::to_string(Uniform(hr, 0, 20)) << "\n";
      } else {
        out << "  Installed version : " << std::to_string(Uniform(hr, 1, 9)) << "."
            << std::to_string(Uniform(hr, 0, 20)) << "\n  Fixed version     : see solution\n";
      }
      out << "</plugin_output>\n</ReportItem>\n";
    }
    out << "</ReportHost>\n";
  }
  out << "</Report>\n</NessusClientData_v2>\n";
}

// ---- Trivy ----

struct TrivyVuln {
  std::string id, pkg, installed, fixed, status, severity, title, description, published, modified,
      v3, cwe;
  double v3_score;
  std::vector<std::string> refs;
  bool lang;
};

std::vector<TrivyVuln> TrivyCatalogue(Rng& rng, size_t size) {
  static constexpr std::array<std::string_view, 24> kOsPkgs = {
      "openssl",   "libssl3",       "zlib1g",      "libc6",     "libc-bin",     "curl",
      "libcurl4",  "libxml2",       "libexpat1",   "perl-base", "libsqlite3-0", "libgnutls30",
      "libtiff6",  "libpng16-16",   "libsystemd0", "libudev1",  "tar",          "gzip",
      "libkrb5-3", "libldap-2.5-0", "libgcrypt20", "libssh-4",  "bash",         "login"};
  static constexpr std::array<std::string_view, 10> kLangPkgs = {
      "com.fasterxml.jackson.core:jackson-databind",
      "org.apache.logging.log4j:log4j-core",
      "io.netty:netty-codec-http",
      "org.springframework:spring-web",
      "lodash",
      "minimist",
      "express",
      "requests",
      "urllib3",
      "golang.org/x/net"};
  std::vector<TrivyVuln> vulns;
  std::set<std::string> ids;
  for (size_t i = 0; i < size; ++i) {
    TrivyVuln v;
    do v.id = CveId(rng);
    while (!ids.insert(v.id).second);
    v.lang = Chance(rng, 0.2);
    v.pkg = std::string(v.lang ? Pick(rng, kLangPkgs) : Pick(rng, kOsPkgs));
    const long major = Uniform(rng, 1, 9), minor = Uniform(rng, 0, 20), patch = Uniform(rng, 0, 30);
    v.installed = std::to_string(major) + "." + std::to_string(minor) + "." +
                  std::to_string(patch) + (v.lang ? "" : "-1+deb12u1");
    if (Chance(rng, 0.6)) {
      v.fixed = std::to_string(major) + "." + std::to_string(minor) + "." +
                std::to_string(patch + 1) + (v.lang ? "" : "-1+deb12u2");
      v.status = "fixed";
    } else {
      v.status = Chance(rng, 0.8) ? "affected" : "will_not_fix";
    }
    int sev = SeverityMix(rng);
    if (sev == 0) sev = 1;  // Trivy reports vulnerabilities, not detections
    v.severity = std::string(kTrivySeverity[static_cast<size_t>(sev)]);
    Vectors vec = VectorsFor(rng, sev);
    v.v3 = vec.v3;
    v.v3_score = vec.v3_score;
    v.title = v.pkg + ": " + Prose(rng, static_cast<size_t>(Uniform(rng, 30, 80)));
    v.title.pop_back();
    v.description = Prose(rng, static_cast<size_t>(Uniform(rng, 250, 650)));
    const int y = static_cast<int>(Uniform(rng, 2016, 2025));
    const int m = static_cast<int>(Uniform(rng, 1, 12));
    const int d = static_cast<int>(Uniform(rng, 1, 28));
    v.published = IsoDate(y, m, d);
    v.modified = IsoDate(std::min(2025, y + 1), m, d);
    v.cwe = "CWE-" + std::to_string(Uniform(rng, 20, 900));
    v.refs = {"https://access.redhat.com/security/cve/" + v.id,
              "https://nvd.nist.gov/vuln/detail/" + v.id,
              "https://security-tracker.debian.org/tracker/" + v.id};
    if (Chance(rng, 0.5)) v.refs.push_back("https://github.com/advisories/GHSA-example-" + v.id);
    vulns.push_back(std::move(v));
  }
  return vulns;
}

void WriteTrivyVuln(Out& out, const TrivyVuln& v, const std::string& layer, bool first) {
  out << (first ? "\n" : ",\n") << "          {\n            \"VulnerabilityID\": \"" << v.id
      << "\",\n            \"PkgID\": \"" << v.pkg << "@" << v.installed
      << "\",\n            \"PkgName\": \"" << v.pkg << "\",\n            \"PkgIdentifier\": {"
      << "\"PURL\": \"pkg:" << (v.lang ? "generic/" : "deb/debian/") << v.pkg << "@" << v.installed
      << "\"},\n            \"InstalledVersion\": \"" << v.installed << "\",\n";
  if (!v.fixed.empty()) out << "            \"FixedVersion\": \"" << v.fixed << "\",\n";
  out << "            \"Status\": \"" << v.status << "\",\n            \"Layer\": {\"DiffID\": \""
      << layer << "\"},\n            \"SeveritySource\": \"nvd\",\n            \"PrimaryURL\": "
      << "\"https://avd.aquasec.com/nvd/" << v.id << "\",\n            \"DataSource\": {\"ID\": "
      << "\"debian\", \"Name\": \"Debian Security Tracker\", \"URL\": "
      << "\"https://salsa.debian.org/security-tracker-team/security-tracker\"},\n"
      << "            \"Title\": \"" << JsonEscape(v.title)
      << "\",\n            \"Description\": \"" << JsonEscape(v.description)
      << "\",\n            \"Severity\": \"" << v.severity << "\",\n            \"CweIDs\": [\""
      << v.cwe << "\"],\n            \"VendorSeverity\": "
      << "{\"nvd\": "
      << static_cast<long>(std::find(kTrivySeverity.begin(), kTrivySeverity.end(), v.severity) -
                           kTrivySeverity.begin())
      << "},\n            \"CVSS\": {\"nvd\": {\"V3Vector\": \"" << v.v3
      << "\", \"V3Score\": " << Score(v.v3_score) << "}},\n            \"References\": [";
  for (size_t k = 0; k < v.refs.size(); ++k) out << (k ? ", \"" : "\"") << v.refs[k] << "\"";
  out << "],\n            \"PublishedDate\": \"" << v.published
      << "\",\n            \"LastModifiedDate\": \"" << v.modified << "\"\n          }";
}

void WriteTrivy(const Options& o, Out& out) {
  Rng rng(o.seed);
  const std::vector<TrivyVuln> catalogue = TrivyCatalogue(rng, 6000);
  const std::vector<long> per_image =
      Spread(rng, o.hosts, o.findings, static_cast<long>(catalogue.size()));
  out << "{\n  \"ClusterName\": \"" << JsonEscape(o.cluster) << "\",\n  \"CreatedAt\": \""
      << isms::FormatInstant(o.scan_time) << "\",\n  \"Trivy\": {\"Version\": \"0.50.1\"},\n"
      << "  \"Resources\": [";
  for (long h = 0; h < o.hosts; ++h) {
    Rng hr(o.seed * 1000003 + static_cast<unsigned long>(h));
    const std::string team = "team-" + std::to_string(h % 40);
    const std::string image = "registry.estate.example.gov.uk/" + team + "/svc-" +
                              std::to_string(h) + ":1." + std::to_string(h % 17) + ".0";
    char digest[80];
    std::snprintf(digest, sizeof digest, "sha256:%016lx%016lx%016lx%016lx",
                  static_cast<unsigned long>(hr()), static_cast<unsigned long>(hr()),
                  static_cast<unsigned long>(hr()), static_cast<unsigned long>(hr()));
    const std::string layer = std::string(digest);
    std::vector<size_t> os, lang;
    for (size_t i : PickDistinct(hr, catalogue.size(), static_cast<size_t>(per_image[h]))) {
      (catalogue[i].lang ? lang : os).push_back(i);
    }
    out << (h ? ",\n" : "\n") << "    {\n      \"Namespace\": \"" << team
        << "\",\n      \"Kind\": \"Deployment\",\n      \"Name\": \"svc-" << h
        << "\",\n      \"Metadata\": {\"RepoTags\": [\"" << image << "\"], \"RepoDigests\": [\""
        << image.substr(0, image.rfind(':')) << "@" << digest << "\"], \"OS\": {\"Family\": "
        << "\"debian\", \"Name\": \"12.5\"}},\n      \"Results\": [";
    auto result = [&](const std::vector<size_t>& items, const std::string& target,
                      std::string_view cls, std::string_view type, bool first) {
      out << (first ? "\n" : ",\n") << "        {\n          \"Target\": \"" << target
          << "\",\n          \"Class\": \"" << cls << "\",\n          \"Type\": \"" << type
          << "\",\n          \"Vulnerabilities\": [";
      for (size_t k = 0; k < items.size(); ++k) {
        WriteTrivyVuln(out, catalogue[items[k]], layer, k == 0);
      }
      out << "\n          ]\n        }";
    };
    result(os, image + " (debian 12.5)", "os-pkgs", "debian", true);
    if (!lang.empty()) result(lang, "app/lib", "lang-pkgs", "jar", false);
    out << "\n      ]\n    }";
  }
  out << "\n  ]\n}\n";
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "gen_scans: %s\nusage: gen_scans --format nessus|trivy --hosts N --findings M "
               "--seed S --scan-time RFC3339 -o FILE [--cluster NAME]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool have_time = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "--format") {
      o.format = v;
    } else if (a == "--hosts") {
      o.hosts = std::atol(v);
    } else if (a == "--findings") {
      o.findings = std::atol(v);
    } else if (a == "--seed") {
      o.seed = std::strtoul(v, nullptr, 10);
    } else if (a == "--scan-time") {
      isms::Result<isms::Instant> t = isms::ParseInstant(v);
      if (!t.ok()) Usage(t.status().message().c_str());
      o.scan_time = *t;
      have_time = true;
    } else if (a == "--cluster") {
      o.cluster = v;
    } else if (a == "-o") {
      o.out = v;
    } else {
      Usage(("unknown option " + a).c_str());
    }
  }
  if (o.format != "nessus" && o.format != "trivy") Usage("--format must be nessus or trivy");
  if (o.hosts <= 0 || o.findings < 0) Usage("--hosts must be > 0 and --findings >= 0");
  if (!have_time) Usage("--scan-time is required");
  if (o.out.empty()) Usage("-o FILE is required");
  const long cap = o.format == "nessus" ? 3000 : 6000;
  if (o.findings > o.hosts * cap) Usage("too many findings per host for the catalogue");
  std::FILE* f = std::fopen(o.out.c_str(), "wb");
  if (f == nullptr) {
    std::perror(("gen_scans: " + o.out).c_str());
    return 1;
  }
  {
    Out out(f);
    if (o.format == "nessus") {
      WriteNessus(o, out);
    } else {
      WriteTrivy(o, out);
    }
  }
  if (std::fclose(f) != 0) {
    std::perror(("gen_scans: " + o.out).c_str());
    return 1;
  }
  return 0;
}
