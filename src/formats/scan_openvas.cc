// OpenVAS / Greenbone (GVM) XML reports, GMP 9 to GVM 22.x: one RawFinding per
// report/results/result, one ScannedAsset per host. Mapping: docs/formats.md, section "OpenVAS".

#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "formats/scan.h"
#include "formats/scan_parsers.h"
#include "formats/xml_stream.h"

namespace isms {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// The fields of an NVT's tags, "key=value|key=value|...", read in one pass: a value runs to the
// next '|' that is followed by another "key=" or ends the tags (values may hold '|' of their
// own).
struct NvtTags {
  std::string_view cvss_base_vector, solution, solution_type;

  explicit NvtTags(std::string_view tags) {
    // After a '|': another "key=" (white space allowed before it), or the end of the tags.
    auto separates = [&](std::size_t i) {
      while (i < tags.size() && (tags[i] == ' ' || tags[i] == '\n' || tags[i] == '\r')) ++i;
      if (i == tags.size()) return true;
      const std::size_t from = i;
      while (i < tags.size() && IsKeyChar(tags[i])) ++i;
      return i > from && i < tags.size() && tags[i] == '=';
    };
    std::size_t pos = 0;
    while (pos < tags.size()) {
      std::size_t end = tags.find('|', pos);
      while (end != std::string_view::npos && !separates(end + 1)) end = tags.find('|', end + 1);
      const std::string_view item =
          tags.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
      const std::size_t eq = item.find('=');
      if (eq != std::string_view::npos) {
        const std::string_view key = TrimSpace(item.substr(0, eq));
        const std::string_view value = item.substr(eq + 1);
        if (key == "cvss_base_vector") cvss_base_vector = value;
        if (key == "solution") solution = value;
        if (key == "solution_type") solution_type = value;
      }
      if (end == std::string_view::npos) break;
      pos = end + 1;
    }
  }
};

FixState FixOfSolutionType(std::string_view type) {
  type = TrimSpace(type);
  if (type == "VendorFix") return FixState::kAvailable;
  if (type == "WillNotFix") return FixState::kWontFix;
  if (type == "NoneAvailable") return FixState::kNotAvailable;
  return FixState::kUnknown;  // Mitigation, Workaround, or not given
}

std::optional<double> ParseScore(std::string_view s) {
  s = TrimSpace(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// GVM's own rule for the threat of a severity score (its "nist" severity class).
std::string_view ThreatOfScore(double score) {
  if (score >= 7.0) return "High";
  if (score >= 4.0) return "Medium";
  if (score > 0.0) return "Low";
  return "Log";
}

// The value of a "Fixed version:" line in a result's description, as GVM's version checks
// write it ("Fixed version:     117"); "" when absent.
std::string FixedVersionOf(std::string_view description) {
  static constexpr std::string_view kLabel = "Fixed version:";
  const std::size_t at = description.find(kLabel);
  if (at == std::string_view::npos) return {};
  std::string_view rest = description.substr(at + kLabel.size());
  rest = rest.substr(0, rest.find('\n'));
  const std::string_view v = TrimSpace(rest);
  if (v == "None" || v == "N/A") return {};
  return std::string(v);
}

class OpenVasReader final : public XmlStream {
 public:
  explicit OpenVasReader(ScanSink& sink) : sink_(sink) {}

 private:
  struct Item {
    RawFinding f;
    std::string ip, hostname;
    std::string threat;
    std::optional<double> score;
    std::string tags;
    bool has_solution_element = false;
    std::string severity_type, severity_origin, severity_value;
  };

  struct Host {
    std::string ip, hostname;
    std::optional<Instant> started;
    std::optional<bool> credentialed;
    bool auth_failed = false;
    std::string detail_name, detail_value;
  };

  std::string_view Parent(int depth) const {
    return depth >= 2 && static_cast<std::size_t>(depth - 2) < stack_.size() ? stack_[depth - 2]
                                                                             : std::string_view();
  }

  void OnStart(std::string_view name, const XmlAttributes& attrs, int depth) override {
    if (static_cast<std::size_t>(depth) > stack_.size()) stack_.resize(depth);
    stack_[depth - 1].assign(name);
    if (depth == 1) {
      if (name != "report" && name != "get_reports_response") {
        Stop(Status::InvalidArgument(
            std::string(source()) + ": the root element is <" + std::string(name) +
            ">: not an OpenVAS/GVM report (expected <report> or <get_reports_response>)"));
      }
      return;
    }
    const std::string_view parent = Parent(depth);
    if (result_depth_ > 0) {
      StartInResult(name, attrs, depth, parent);
      return;
    }
    if (host_depth_ > 0) {
      StartInHost(name, depth);
      return;
    }
    if (name == "result" && parent == "results") {
      EmitScan();
      result_depth_ = depth;
      result_ = Item();
      result_.f.offset = ByteOffset();
    } else if (name == "results" && parent == "report") {
      EmitScan();
    } else if (name == "host" && parent == "report") {
      EmitScan();
      host_depth_ = depth;
      host_ = Host();
    } else if (name == "version" && (parent == "gmp" || parent == "omp")) {
      CaptureText();
    } else if (name == "scan_start" && parent == "report") {
      CaptureText();
    } else if (name == "name" && parent == "config" && depth >= 4 && stack_[depth - 3] == "task") {
      CaptureText();
    }
  }

  void OnEnd(std::string_view name, int depth) override {
    const std::string_view parent = Parent(depth);
    if (result_depth_ > 0) {
      if (depth == result_depth_) {
        result_depth_ = 0;
        FinishResult();
      } else {
        EndInResult(name, depth, parent);
      }
      return;
    }
    if (host_depth_ > 0) {
      if (depth == host_depth_) {
        host_depth_ = 0;
        FinishHost();
      } else {
        EndInHost(name, depth);
      }
      return;
    }
    if (name == "version" && (parent == "gmp" || parent == "omp")) {
      if (version_.empty()) {
        version_ = TrimSpace(text());
        version_protocol_ = parent;
      }
    } else if (name == "scan_start" && parent == "report") {
      if (!scan_start_) {
        Result<Instant> t = ParseInstant(TrimSpace(text()));
        if (t.ok()) scan_start_ = *t;
      }
    } else if (name == "name" && parent == "config") {
      if (config_name_.empty()) config_name_ = CollapseSpace(text());
    }
  }

  void StartInResult(std::string_view name, const XmlAttributes& attrs, int depth,
                     std::string_view parent) {
    const int rel = depth - result_depth_;
    if (rel == 1) {
      if (name == "host" || name == "port" || name == "threat" || name == "severity" ||
          name == "description") {
        CaptureText();
      } else if (name == "nvt") {
        result_.f.check_id = TrimSpace(attrs.Get("oid"));
      }
    } else if (rel == 2 && parent == "host") {
      if (result_.ip.empty()) result_.ip = TrimSpace(text());
      if (name == "hostname") CaptureText();
    } else if (rel == 2 && parent == "nvt") {
      if (name == "name" || name == "tags" || name == "cve" || name == "cvss_base_vector") {
        CaptureText();
      } else if (name == "solution") {
        result_.has_solution_element = true;
        result_.f.fix = FixOfSolutionType(attrs.Get("type"));
        CaptureText();
      }
    } else if (rel == 3 && parent == "refs" && name == "ref") {
      if (TrimSpace(attrs.Get("type")) == "cve") {
        AppendUnique(result_.f.cves, NormalizeCve(attrs.Get("id")));
      }
    } else if (rel == 3 && parent == "severities" && name == "severity") {
      result_.severity_type = TrimSpace(attrs.Get("type"));
      result_.severity_origin.clear();
      result_.severity_value.clear();
    } else if (rel == 4 && parent == "severity" && (name == "value" || name == "origin")) {
      CaptureText();
    }
  }

  void EndInResult(std::string_view name, int depth, std::string_view parent) {
    Item& r = result_;
    const int rel = depth - result_depth_;
    if (rel == 1) {
      if (name == "host") {
        if (r.ip.empty()) r.ip = TrimSpace(text());
      } else if (name == "port") {
        r.f.port = TrimSpace(text());
      } else if (name == "threat") {
        r.threat = TrimSpace(text());
      } else if (name == "severity") {
        r.score = ParseScore(text());
      } else if (name == "description") {
        r.f.fixed_version = FixedVersionOf(text());
      }
    } else if (rel == 2 && parent == "host" && name == "hostname") {
      r.hostname = TrimSpace(text());
    } else if (rel == 2 && parent == "nvt") {
      if (name == "name") {
        r.f.title = CollapseSpace(text());
      } else if (name == "tags") {
        r.tags = text();
      } else if (name == "solution") {
        r.f.solution = TidyLines(text());
      } else if (name == "cve") {
        std::string_view list = text();
        while (!list.empty()) {
          std::size_t end = list.find_first_of(", \t\n");
          AppendUnique(r.f.cves, NormalizeCve(list.substr(0, end)));
          list.remove_prefix(end == std::string_view::npos ? list.size() : end + 1);
        }
      } else if (name == "cvss_base_vector") {
        AddCvss(TrimSpace(text()), "Greenbone");
      }
    } else if (rel == 4 && parent == "severity") {
      if (name == "value") r.severity_value = TrimSpace(text());
      if (name == "origin") r.severity_origin = TrimSpace(text());
    } else if (rel == 3 && parent == "severities" && name == "severity") {
      if (r.severity_type.starts_with("cvss")) {
        AddCvss(r.severity_value, r.severity_origin.empty() ? "Greenbone" : r.severity_origin);
      }
    }
  }

  void AddCvss(std::string_view vector, std::string_view origin) {
    vector = TrimSpace(vector);
    if (vector.empty()) return;
    for (const CvssVector& v : result_.f.cvss) {
      if (v.vector == vector) return;
    }
    const bool nvd = origin == "NVD";
    result_.f.cvss.push_back(CvssVector{std::string(vector), std::string(origin), nvd});
  }

  void FinishResult() {
    if (stopped()) return;
    Item& r = result_;
    RawFinding& f = r.f;
    if (!r.tags.empty()) {
      const NvtTags tags(r.tags);
      AddCvss(tags.cvss_base_vector, "Greenbone");
      if (!r.has_solution_element) {
        f.fix = FixOfSolutionType(tags.solution_type);
        f.solution = TidyLines(tags.solution);
      }
    }
    if (!r.hostname.empty())
      f.asset.push_back(AssetName{std::string(HostNameKind(r.hostname)), r.hostname});
    if (!r.ip.empty()) f.asset.push_back(AssetName{std::string(HostNameKind(r.ip)), r.ip});
    std::string threat = r.threat;
    if (threat.empty() && r.score) threat = ThreatOfScore(*r.score);
    if (threat == "False Positive") {
      f.vex = VexState::kNotAffected;
      f.vex_justification = "false positive (a GVM override)";
    } else if (threat.empty() || threat == "Log" || threat == "Debug") {
      f.informational = true;
    }
    if (!threat.empty()) f.severities.push_back(SeverityWord{"OpenVAS", threat});
    NoteResultHost(r.ip, r.hostname);
    Check(sink_.OnFinding(std::move(f)));
  }

  void NoteResultHost(const std::string& ip, const std::string& hostname) {
    if (ip.empty()) return;
    const auto [it, added] = result_host_index_.emplace(ip, result_hosts_.size());
    if (added) {
      result_hosts_.emplace_back(ip, hostname);
    } else if (result_hosts_[it->second].second.empty()) {
      result_hosts_[it->second].second = hostname;
    }
  }

  void StartInHost(std::string_view name, int depth) {
    const int rel = depth - host_depth_;
    if (rel == 1 && (name == "ip" || name == "start")) {
      CaptureText();
    } else if (rel == 1 && name == "detail") {
      host_.detail_name.clear();
      host_.detail_value.clear();
    } else if (rel == 2 && (name == "name" || name == "value") && Parent(depth) == "detail") {
      CaptureText();
    }
  }

  void EndInHost(std::string_view name, int depth) {
    const int rel = depth - host_depth_;
    if (rel == 1 && name == "ip") {
      host_.ip = TrimSpace(text());
    } else if (rel == 1 && name == "start") {
      Result<Instant> t = ParseInstant(TrimSpace(text()));
      if (t.ok()) host_.started = *t;
    } else if (rel == 2 && Parent(depth) == "detail") {
      if (name == "name") host_.detail_name = TrimSpace(text());
      if (name == "value") host_.detail_value = TrimSpace(text());
    } else if (rel == 1 && name == "detail") {
      const std::string& d = host_.detail_name;
      if (d == "hostname" && host_.hostname.empty()) {
        host_.hostname = host_.detail_value;
      } else if (d.starts_with("Auth-") && d.ends_with("-Success")) {
        host_.credentialed = true;
      } else if (d.starts_with("Auth-") && d.ends_with("-Failure")) {
        host_.auth_failed = true;
      }
    }
  }

  void FinishHost() {
    if (stopped() || host_.ip.empty()) return;
    if (!hosts_listed_.insert(host_.ip).second) return;
    if (host_.hostname.empty()) {
      const auto it = result_host_index_.find(host_.ip);
      if (it != result_host_index_.end()) host_.hostname = result_hosts_[it->second].second;
    }
    ScannedAsset asset;
    if (!host_.hostname.empty()) {
      asset.names.push_back(AssetName{std::string(HostNameKind(host_.hostname)), host_.hostname});
    }
    asset.names.push_back(AssetName{std::string(HostNameKind(host_.ip)), host_.ip});
    asset.scanned_at = host_.started;
    asset.credentialed = host_.credentialed;
    if (!asset.credentialed && host_.auth_failed) asset.credentialed = false;
    Check(sink_.OnAsset(asset));
  }

  void OnDocumentEnd() override {
    EmitScan();
    for (const auto& [ip, hostname] : result_hosts_) {
      if (stopped()) return;
      if (hosts_listed_.contains(ip)) continue;
      ScannedAsset asset;
      if (!hostname.empty()) {
        asset.names.push_back(AssetName{std::string(HostNameKind(hostname)), hostname});
      }
      asset.names.push_back(AssetName{std::string(HostNameKind(ip)), ip});
      asset.scanned_at = scan_start_;
      Check(sink_.OnAsset(asset));
    }
  }

  void EmitScan() {
    if (scan_emitted_ || stopped()) return;
    scan_emitted_ = true;
    ScanInfo info;
    info.format = ScanFormat::kOpenVas;
    if (version_.empty()) {
      info.scanner = "OpenVAS";
    } else {
      info.scanner = (version_protocol_ == "omp" ? "OpenVAS " : "GVM ") + version_;
    }
    info.scan_type = config_name_.empty() ? "openvas" : "openvas:" + config_name_;
    info.scanned_at = scan_start_;
    Check(sink_.OnScan(info));
  }

  void Check(Status s) {
    if (!s.ok()) Stop(std::move(s));
  }

  ScanSink& sink_;
  std::vector<std::string> stack_;
  bool scan_emitted_ = false;
  std::string version_;
  std::string version_protocol_;
  std::string config_name_;
  std::optional<Instant> scan_start_;
  int result_depth_ = 0;
  int host_depth_ = 0;
  Item result_;
  Host host_;
  std::vector<std::pair<std::string, std::string>> result_hosts_;   // ip, hostname; first seen
  std::unordered_map<std::string, std::size_t> result_host_index_;  // ip -> result_hosts_
  std::unordered_set<std::string> hosts_listed_;                    // ips of report/host
};

}  // namespace

Status ParseOpenVas(std::string_view data, std::string_view source, ScanSink& sink) {
  OpenVasReader reader(sink);
  return reader.Parse(data, source);
}

}  // namespace isms
