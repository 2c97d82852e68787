// Nessus v2 (.nessus) reports: one RawFinding per ReportItem, one ScannedAsset per ReportHost.
// Mapping: docs/formats.md, section "Nessus".

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ascii.h"
#include "formats/scan.h"
#include "formats/scan_parsers.h"
#include "formats/xml_stream.h"

namespace isms {
namespace {

// Depths of the elements of a .nessus file.
constexpr int kRootDepth = 1;       // NessusClientData_v2
constexpr int kSectionDepth = 2;    // Policy, Report
constexpr int kHostDepth = 3;       // Policy/policyName, Report/ReportHost
constexpr int kHostChildDepth = 4;  // HostProperties, ReportItem
constexpr int kFieldDepth = 5;      // HostProperties/tag, ReportItem/<field>

std::optional<std::int64_t> ParseInt(std::string_view s) {
  s = TrimSpace(s);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// "2020/10/29" (Nessus dates); nullopt when malformed.
std::optional<Date> ParseSlashDate(std::string_view s) {
  s = TrimSpace(s);
  if (s.size() != 10 || s[4] != '/' || s[7] != '/') return std::nullopt;
  const auto y = ParseInt(s.substr(0, 4));
  const auto m = ParseInt(s.substr(5, 2));
  const auto d = ParseInt(s.substr(8, 2));
  if (!y || !m || !d) return std::nullopt;
  const Date date{std::chrono::year(static_cast<int>(*y)),
                  std::chrono::month(static_cast<unsigned>(*m)),
                  std::chrono::day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  return date;
}

// HOST_START_TIMESTAMP: seconds since the epoch.
std::optional<Instant> ParseEpoch(std::string_view s) {
  const auto v = ParseInt(s);
  if (!v || *v <= 0) return std::nullopt;
  return Instant(std::chrono::seconds(*v));
}

// HOST_START: "Wed Mar 23 14:31:51 2022" (ctime form, in the scanner's local time, which the
// report does not give: read as UTC).
std::optional<Instant> ParseCtime(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::array<std::string_view, 5> parts;
  std::size_t n = 0;
  s = TrimSpace(s);
  while (!s.empty() && n < parts.size()) {
    const std::size_t end = s.find(' ');
    parts[n++] = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view() : TrimSpace(s.substr(end));
  }
  if (n != 5 || !s.empty()) return std::nullopt;
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (parts[1] == kMonths[i]) month = i + 1;
  }
  const auto day = ParseInt(parts[2]);
  const auto year = ParseInt(parts[4]);
  const std::string_view hms = parts[3];
  if (month == 0 || !day || !year || hms.size() != 8 || hms[2] != ':' || hms[5] != ':') {
    return std::nullopt;
  }
  const auto hh = ParseInt(hms.substr(0, 2));
  const auto mm = ParseInt(hms.substr(3, 2));
  const auto ss = ParseInt(hms.substr(6, 2));
  const Date date{std::chrono::year(static_cast<int>(*year)), std::chrono::month(month),
                  std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || !hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  return Instant(std::chrono::sys_days(date) + std::chrono::hours(*hh) + std::chrono::minutes(*mm) +
                 std::chrono::seconds(*ss));
}

// The name and value of every `<tag name="NAME">VALUE</tag>` in the raw document, read without
// parsing it, so that OnScan (which comes first) can carry what only the hosts say: when the
// scan began and whether it was credentialed. One memmem pass runs at several GB/s; Nessus always
// writes these tags in this exact form.
template <typename F>
void ForEachTag(std::string_view data, F&& f) {
  static constexpr std::string_view kNeedle = "<tag name=\"";
  std::size_t pos = 0;
  while (pos < data.size()) {
    const void* hit = memmem(data.data() + pos, data.size() - pos, kNeedle.data(), kNeedle.size());
    if (hit == nullptr) return;
    const std::size_t name = static_cast<const char*>(hit) - data.data() + kNeedle.size();
    const std::size_t end = data.find('<', name);
    if (end == std::string_view::npos) return;
    const std::string_view tag = data.substr(name, end - name);  // NAME">VALUE
    const std::size_t close = tag.find("\">");
    if (close != std::string_view::npos) f(tag.substr(0, close), tag.substr(close + 2));
    pos = end;
  }
}

struct ScanWideFacts {
  std::optional<Instant> started;
  std::optional<bool> credentialed;
};

ScanWideFacts PreScan(std::string_view data) {
  ScanWideFacts facts;
  std::optional<Instant> started_ts, started_text;
  auto earliest = [](std::optional<Instant>& acc, std::optional<Instant> t) {
    if (t && (!acc || *t < *acc)) acc = t;
  };
  ForEachTag(data, [&](std::string_view name, std::string_view v) {
    if (name == "HOST_START_TIMESTAMP") {
      earliest(started_ts, ParseEpoch(v));
    } else if (name == "HOST_START") {
      earliest(started_text, ParseCtime(v));
    } else if (name == "Credentialed_Scan") {
      v = TrimSpace(v);
      if (v == "false") {
        facts.credentialed = false;
      } else if (v == "true" && !facts.credentialed) {
        facts.credentialed = true;
      }
    }
  });
  // The host-start timestamps when any is readable, else the ctime forms.
  facts.started = started_ts ? started_ts : started_text;
  return facts;
}

// The fields of a ReportItem that are read; everything else is skipped without copying.
enum class Field {
  kNone,
  kCve,
  kCwe,
  kCvss2,
  kCvss3,
  kCvss4,
  kRiskFactor,
  kPatchDate,
  kVulnDate,
  kSolution,
  kExploitAvailable,
  kExploitedByMalware,
  kUnsupported,
  kXref,
  kMsft,
  kCpe,
  kPluginName,
};

Field FieldOf(std::string_view name) {
  // By length first: most children of a ReportItem are none of these and cost one switch.
  switch (name.size()) {
    case 3:
      if (name == "cve") return Field::kCve;
      if (name == "cwe") return Field::kCwe;
      if (name == "cpe") return Field::kCpe;
      return Field::kNone;
    case 4:
      if (name == "xref") return Field::kXref;
      if (name == "msft") return Field::kMsft;
      return Field::kNone;
    case 8: return name == "solution" ? Field::kSolution : Field::kNone;
    case 11:
      if (name == "cvss_vector") return Field::kCvss2;
      if (name == "risk_factor") return Field::kRiskFactor;
      if (name == "plugin_name") return Field::kPluginName;
      return Field::kNone;
    case 12:
      if (name == "cvss3_vector") return Field::kCvss3;
      if (name == "cvss4_vector") return Field::kCvss4;
      return Field::kNone;
    case 17: return name == "exploit_available" ? Field::kExploitAvailable : Field::kNone;
    case 20: return name == "exploited_by_malware" ? Field::kExploitedByMalware : Field::kNone;
    case 21:
      if (name == "unsupported_by_vendor") return Field::kUnsupported;
      if (name == "vuln_publication_date") return Field::kVulnDate;
      return Field::kNone;
    case 22: return name == "patch_publication_date" ? Field::kPatchDate : Field::kNone;
    default: return Field::kNone;
  }
}

std::string_view RiskFactorOfSeverity(std::string_view severity) {
  if (severity == "0") return "None";
  if (severity == "1") return "Low";
  if (severity == "2") return "Medium";
  if (severity == "3") return "High";
  if (severity == "4") return "Critical";
  return {};
}

class NessusReader final : public XmlStream {
 public:
  NessusReader(std::string_view data, ScanSink& sink) : data_(data), sink_(sink) {}

 private:
  // The asset of the current ReportHost, as its names are learnt.
  struct Host {
    std::string report_name;
    std::string fqdn, ip, netbios, hostname, mac;
    std::optional<Instant> started_ts, started_text;
    std::optional<bool> credentialed;
    std::vector<AssetName> names;
    bool emitted = false;
  };

  struct Item {
    RawFinding f;
    std::string severity;  // the severity attribute, "0".."4"
    std::string risk_factor;
    std::string cvss2, cvss3, cvss4;
    bool unsupported = false;
  };

  void OnStart(std::string_view name, const XmlAttributes& attrs, int depth) override {
    if (depth == kRootDepth) {
      if (name != "NessusClientData_v2") {
        Stop(Status::InvalidArgument(
            std::string(source()) + ": the root element is <" + std::string(name) +
            ">, not <NessusClientData_v2>: not a Nessus v2 (.nessus) report"));
      }
      return;
    }
    if (in_item_) {
      if (depth == kFieldDepth) {
        field_ = FieldOf(name);
        if (field_ != Field::kNone) CaptureText();
      }
      return;
    }
    switch (depth) {
      case kSectionDepth:
        section_ = name;
        if (name == "Report") EmitScan();
        return;
      case kHostDepth:
        if (section_ == "Policy" && name == "policyName") {
          CaptureText();
        } else if (section_ == "Report" && name == "ReportHost") {
          host_ = Host();
          host_.report_name = TrimSpace(attrs.Get("name"));
          in_host_ = true;
        }
        return;
      case kHostChildDepth:
        if (!in_host_) return;
        if (name == "ReportItem") {
          EmitAsset();
          StartItem(attrs);
        } else if (name == "HostProperties") {
          in_properties_ = true;
        }
        return;
      case kFieldDepth:
        if (in_properties_ && name == "tag") {
          tag_name_ = attrs.Get("name");
          CaptureText();
        }
        return;
      default: return;
    }
  }

  void OnEnd(std::string_view name, int depth) override {
    if (in_item_) {
      if (depth == kFieldDepth) {
        if (field_ != Field::kNone) ReadField(field_, text());
        field_ = Field::kNone;
      } else if (depth == kHostChildDepth) {
        FinishItem();
      }
      return;
    }
    switch (depth) {
      case kHostDepth:
        if (section_ == "Policy" && name == "policyName") {
          if (policy_name_.empty()) policy_name_ = CollapseSpace(text());
        } else if (in_host_ && name == "ReportHost") {
          EmitAsset();
          in_host_ = false;
        }
        return;
      case kHostChildDepth:
        if (in_properties_ && name == "HostProperties") {
          in_properties_ = false;
          EmitAsset();
        }
        return;
      case kFieldDepth:
        if (in_properties_ && name == "tag") ReadHostTag(text());
        return;
      default: return;
    }
  }

  void OnDocumentEnd() override { EmitScan(); }

  void EmitScan() {
    if (scan_emitted_ || stopped()) return;
    scan_emitted_ = true;
    const ScanWideFacts facts = PreScan(data_);
    ScanInfo info;
    info.format = ScanFormat::kNessus;
    info.scanner = "Nessus";
    info.scan_type = "nessus:" + policy_name_;
    info.scanned_at = facts.started;
    info.credentialed = facts.credentialed;
    Check(sink_.OnScan(info));
  }

  void ReadHostTag(std::string_view value) {
    value = TrimSpace(value);
    if (value.empty()) return;
    if (tag_name_ == "host-fqdn") {
      host_.fqdn = value;
    } else if (tag_name_ == "host-ip") {
      host_.ip = value;
    } else if (tag_name_ == "netbios-name") {
      host_.netbios = value;
    } else if (tag_name_ == "hostname") {
      host_.hostname = value;
    } else if (tag_name_ == "mac-address") {
      host_.mac = value;
    } else if (tag_name_ == "HOST_START_TIMESTAMP") {
      host_.started_ts = ParseEpoch(value);
    } else if (tag_name_ == "HOST_START") {
      host_.started_text = ParseCtime(value);
    } else if (tag_name_ == "Credentialed_Scan") {
      if (value == "true") host_.credentialed = true;
      if (value == "false") host_.credentialed = false;
    }
  }

  void AddName(std::string_view kind, std::string_view value) {
    value = TrimSpace(value);
    if (value.empty()) return;
    for (const AssetName& n : host_.names) {
      if (n.kind == kind && EqualsIgnoreCase(n.value, value)) return;
    }
    host_.names.push_back(AssetName{std::string(kind), std::string(value)});
  }

  void EmitAsset() {
    if (host_.emitted || stopped()) return;
    host_.emitted = true;
    AddName(HostNameKind(host_.report_name), host_.report_name);
    AddName(HostNameKind(host_.fqdn), host_.fqdn);
    AddName("ip", host_.ip);
    AddName(HostNameKind(host_.netbios), host_.netbios);
    AddName(HostNameKind(host_.hostname), host_.hostname);
    std::string_view macs = host_.mac;
    while (!macs.empty()) {
      std::size_t end = 0;
      while (end < macs.size() && macs[end] != '\n' && macs[end] != ' ' && macs[end] != ',') {
        ++end;
      }
      AddName("mac", macs.substr(0, end));
      macs.remove_prefix(end < macs.size() ? end + 1 : end);
    }
    ScannedAsset asset;
    asset.names = host_.names;
    asset.scanned_at = host_.started_ts ? host_.started_ts : host_.started_text;
    asset.credentialed = host_.credentialed;
    Check(sink_.OnAsset(asset));
  }

  void StartItem(const XmlAttributes& attrs) {
    in_item_ = true;
    item_ = Item();
    RawFinding& f = item_.f;
    f.offset = ByteOffset();
    f.asset = host_.names;
    f.check_id = TrimSpace(attrs.Get("pluginID"));
    f.title = CollapseSpace(attrs.Get("pluginName"));
    const std::string_view port = TrimSpace(attrs.Get("port"));
    const std::string_view protocol = TrimSpace(attrs.Get("protocol"));
    if (!port.empty()) {
      f.port =
          protocol.empty() ? std::string(port) : std::string(port) + "/" + std::string(protocol);
    }
    item_.severity = TrimSpace(attrs.Get("severity"));
  }

  void ReadField(Field field, std::string_view raw) {
    RawFinding& f = item_.f;
    const std::string_view v = TrimSpace(raw);
    switch (field) {
      case Field::kNone: return;
      case Field::kCve: AppendUnique(f.cves, NormalizeCve(v)); return;
      case Field::kCwe: AppendUnique(f.cwes, NormalizeCwe(v)); return;
      case Field::kCvss2: item_.cvss2 = v; return;
      case Field::kCvss3: item_.cvss3 = v; return;
      case Field::kCvss4: item_.cvss4 = v; return;
      case Field::kRiskFactor: item_.risk_factor = v; return;
      case Field::kPatchDate: f.patch_published = ParseSlashDate(v); return;
      case Field::kVulnDate: f.vuln_published = ParseSlashDate(v); return;
      case Field::kSolution: f.solution = TidyLines(v); return;
      case Field::kExploitAvailable:
      case Field::kExploitedByMalware:
        if (v == "true") f.exploit_available = true;
        return;
      case Field::kUnsupported: item_.unsupported = v == "true"; return;
      case Field::kXref:
        if (v.starts_with("CISA-KNOWN-EXPLOITED")) f.exploit_available = true;
        return;
      case Field::kMsft: AppendUnique(f.aliases, std::string(v)); return;
      case Field::kCpe:
        if (f.cpe.empty()) f.cpe = v;
        return;
      case Field::kPluginName:
        if (f.title.empty()) f.title = CollapseSpace(v);
        return;
    }
  }

  void FinishItem() {
    in_item_ = false;
    if (stopped()) return;
    RawFinding& f = item_.f;
    if (!item_.cvss4.empty()) {
      std::string v = item_.cvss4.starts_with("CVSS:") ? item_.cvss4 : "CVSS:4.0/" + item_.cvss4;
      f.cvss.push_back(CvssVector{std::move(v), "Tenable", false});
    }
    if (!item_.cvss3.empty()) {
      std::string v = item_.cvss3.starts_with("CVSS:") ? item_.cvss3 : "CVSS:3.0/" + item_.cvss3;
      f.cvss.push_back(CvssVector{std::move(v), "Tenable", false});
    }
    if (!item_.cvss2.empty()) {
      std::string_view v = item_.cvss2;
      if (v.starts_with("CVSS2#")) v.remove_prefix(6);
      f.cvss.push_back(CvssVector{std::string(v), "Tenable", false});
    }
    std::string word = item_.risk_factor;
    if (word.empty()) word = RiskFactorOfSeverity(item_.severity);
    if (!word.empty()) f.severities.push_back(SeverityWord{"Nessus", std::move(word)});
    f.informational = item_.severity == "0";
    if (item_.unsupported) {
      f.fix = FixState::kWontFix;
    } else if (f.patch_published) {
      f.fix = FixState::kAvailable;
    }
    Check(sink_.OnFinding(std::move(f)));
  }

  void Check(Status s) {
    if (!s.ok()) Stop(std::move(s));
  }

  std::string_view data_;
  ScanSink& sink_;
  bool scan_emitted_ = false;
  std::string policy_name_;
  std::string section_;
  bool in_host_ = false;
  bool in_properties_ = false;
  bool in_item_ = false;
  Field field_ = Field::kNone;
  std::string tag_name_;
  Host host_;
  Item item_;
};

}  // namespace

Status ParseNessus(std::string_view data, std::string_view source, ScanSink& sink) {
  NessusReader reader(data, sink);
  return reader.Parse(data, source);
}

}  // namespace isms
