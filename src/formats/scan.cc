#include "formats/scan.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "formats/scan_parsers.h"

namespace isms {
namespace {

constexpr std::size_t kHeadBytes = 64 * 1024;

constexpr std::string_view kSupported =
    "supported: Nessus .nessus (v2) and OpenVAS/GVM XML reports; Trivy, Grype, OSV-Scanner, "
    "CycloneDX and SARIF 2.1.0 JSON";

constexpr std::array<std::pair<ScanFormat, std::string_view>, 7> kFormatKeys = {{
    {ScanFormat::kNessus, "nessus"},
    {ScanFormat::kOpenVas, "openvas"},
    {ScanFormat::kTrivy, "trivy"},
    {ScanFormat::kGrype, "grype"},
    {ScanFormat::kOsv, "osv"},
    {ScanFormat::kCycloneDx, "cyclonedx"},
    {ScanFormat::kSarif, "sarif"},
}};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t SkipSpace(std::string_view s, std::size_t i) {
  while (i < s.size() && IsSpace(s[i])) ++i;
  return i;
}

// The first bytes of `s`, printable: other bytes as \xNN, line breaks as \n.
std::string Preview(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 32)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > 32) out += "...";
  return out;
}

Status NotAScan(std::string_view source, std::string_view what) {
  return Status::InvalidArgument(std::string(source) + " is not a supported scan report: it is " +
                                 std::string(what) + " (" + std::string(kSupported) + ")");
}

// --- XML ---------------------------------------------------------------------------------------

// The name of the root element (without a namespace prefix), or "" when the head does not reach
// it. Skips the XML declaration, processing instructions, comments and a DOCTYPE.
std::string_view XmlRootName(std::string_view s) {
  std::size_t i = 0;
  while (true) {
    i = SkipSpace(s, i);
    if (i >= s.size() || s[i] != '<') return {};
    const std::string_view rest = s.substr(i);
    std::size_t end = std::string_view::npos;
    if (rest.starts_with("<?")) {
      end = rest.find("?>");
      if (end != std::string_view::npos) end += 2;
    } else if (rest.starts_with("<!--")) {
      end = rest.find("-->");
      if (end != std::string_view::npos) end += 3;
    } else if (rest.starts_with("<!")) {
      const std::size_t bracket = rest.find('[');
      const std::size_t close = rest.find('>');
      if (bracket != std::string_view::npos && bracket < close) {
        end = rest.find("]>", bracket);
        if (end != std::string_view::npos) end += 2;
      } else {
        end = close == std::string_view::npos ? close : close + 1;
      }
    } else {
      std::size_t n = 1;
      while (n < rest.size() && !IsSpace(rest[n]) && rest[n] != '>' && rest[n] != '/') ++n;
      std::string_view name = rest.substr(1, n - 1);
      const std::size_t colon = name.find(':');
      if (colon != std::string_view::npos) name.remove_prefix(colon + 1);
      return name;
    }
    if (end == std::string_view::npos) return {};
    i += end;
  }
}

Result<ScanFormat> DetectXml(std::string_view head, std::string_view source) {
  const std::string_view root = XmlRootName(head);
  if (root == "NessusClientData_v2") return ScanFormat::kNessus;
  if (root == "get_reports_response") return ScanFormat::kOpenVas;
  if (root == "report") {
    for (std::string_view marker :
         {"<gmp>", "<omp>", "<nvt ", "<scan_run_status>", "<report_format", "format_id=\""}) {
      if (head.find(marker) != std::string_view::npos) return ScanFormat::kOpenVas;
    }
    return NotAScan(source, "an XML <report> with none of the marks of an OpenVAS/GVM report");
  }
  if (root == "NessusClientData") {
    return Status::InvalidArgument(std::string(source) +
                                   " is a Nessus v1 report: export the scan as .nessus (v2)");
  }
  if (root == "bom") {
    return Status::InvalidArgument(
        std::string(source) +
        " is a CycloneDX XML BOM: only CycloneDX JSON is read; convert it first, e.g. "
        "`cyclonedx convert --input-file FILE --output-format json`");
  }
  if (root == "html" || root == "HTML") return NotAScan(source, "an HTML page");
  if (root.empty()) return NotAScan(source, "XML whose root element is not in the first 64 KiB");
  return NotAScan(source, "XML with root element <" + std::string(root) + ">");
}

// --- JSON --------------------------------------------------------------------------------------

// What the head of a JSON document shows: the keys of its objects with their object depth (1 for
// the root object, or for the elements of a root array), and the string values of root keys.
struct JsonKey {
  std::string name;
  int depth = 0;
  std::string value;  // depth 1 only, when the value is a string
};

struct JsonHead {
  char root = 0;  // '{', '[' or another first byte
  std::vector<JsonKey> keys;

  bool Has(std::string_view name, int depth) const {
    return std::any_of(keys.begin(), keys.end(),
                       [&](const JsonKey& k) { return k.depth == depth && k.name == name; });
  }
  std::string_view Value(std::string_view name) const {
    for (const JsonKey& k : keys) {
      if (k.depth == 1 && k.name == name) return k.value;
    }
    return {};
  }
  std::string RootKeys() const {
    std::string out;
    int n = 0;
    for (const JsonKey& k : keys) {
      if (k.depth != 1) continue;
      if (++n > 6) {
        out += ", ...";
        break;
      }
      if (!out.empty()) out += ", ";
      out += "\"" + k.name + "\"";
    }
    return out;
  }
};

// Reads a JSON string starting after its opening quote; returns the index after the closing
// quote (or s.size() when the head ends first). Escapes are kept as written except \" and \\.
std::size_t ReadString(std::string_view s, std::size_t i, std::string* out) {
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\' && i + 1 < s.size()) {
      if (out != nullptr && out->size() < 256) out->push_back(s[i + 1]);
      i += 2;
      continue;
    }
    if (out != nullptr && out->size() < 256) out->push_back(c);
    ++i;
  }
  return s.size();
}

JsonHead ScanJsonHead(std::string_view s) {
  constexpr std::size_t kMaxKeys = 4096;
  JsonHead head;
  std::size_t i = SkipSpace(s, 0);
  if (i >= s.size()) return head;
  head.root = s[i];
  std::vector<char> stack;
  int objects = 0;
  bool expect_key = false;
  int value_for = -1;  // index in head.keys of a root key whose value comes next
  while (i < s.size() && head.keys.size() < kMaxKeys) {
    const char c = s[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    switch (c) {
      case '{':
        stack.push_back('{');
        ++objects;
        expect_key = true;
        value_for = -1;
        ++i;
        continue;
      case '[':
        stack.push_back('[');
        expect_key = false;
        value_for = -1;
        ++i;
        continue;
      case '}':
      case ']':
        if (!stack.empty()) {
          if (stack.back() == '{') --objects;
          stack.pop_back();
        }
        expect_key = false;
        value_for = -1;
        ++i;
        continue;
      case ',':
        expect_key = !stack.empty() && stack.back() == '{';
        value_for = -1;
        ++i;
        continue;
      case ':': ++i; continue;
      case '"':
        if (expect_key) {
          JsonKey key;
          key.depth = objects;
          i = ReadString(s, i + 1, &key.name);
          value_for = objects == 1 ? static_cast<int>(head.keys.size()) : -1;
          head.keys.push_back(std::move(key));
          expect_key = false;
        } else {
          std::string* out = value_for >= 0 ? &head.keys[value_for].value : nullptr;
          i = ReadString(s, i + 1, out);
          value_for = -1;
        }
        continue;
      default:
        while (i < s.size() && !IsSpace(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
        value_for = -1;
        continue;
    }
  }
  return head;
}

Result<ScanFormat> DetectJson(std::string_view text, std::string_view source) {
  const JsonHead h = ScanJsonHead(text);
  if (h.root == '[') {
    if (h.Has("Target", 1) || h.Has("Vulnerabilities", 1)) return ScanFormat::kTrivy;
    return NotAScan(source, h.keys.empty() ? std::string("a JSON array with no objects")
                                           : "a JSON array of objects with keys " + h.RootKeys());
  }
  if (h.Has("bomFormat", 1)) {
    if (h.Value("bomFormat") == "CycloneDX") return ScanFormat::kCycloneDx;
    return NotAScan(source, "JSON with bomFormat \"" + std::string(h.Value("bomFormat")) + "\"");
  }
  if (h.Has("document", 1) &&
      (h.Has("csaf_version", 2) || text.find("\"csaf_version\"") != std::string_view::npos)) {
    return Status::InvalidArgument(std::string(source) +
                                   " is a CSAF advisory, not a scan report: use `isms import "
                                   "advisory`");
  }
  if (h.Value("$schema").find("sarif") != std::string_view::npos ||
      (h.Value("version") == "2.1.0" && h.Has("runs", 1))) {
    return ScanFormat::kSarif;
  }
  if (h.Has("SchemaVersion", 1) || (h.Has("ArtifactName", 1) && h.Has("Results", 1)) ||
      (h.Has("ClusterName", 1) &&
       (h.Has("Resources", 1) || h.Has("Vulnerabilities", 1) || h.Has("Misconfigurations", 1)))) {
    return ScanFormat::kTrivy;
  }
  if (h.Has("matches", 1) &&
      (h.Has("source", 1) || h.Has("descriptor", 1) || h.Has("distro", 1) ||
       (h.Has("vulnerability", 2) && (h.Has("artifact", 2) || h.Has("matchDetails", 2))))) {
    return ScanFormat::kGrype;
  }
  if (h.Has("results", 1) && h.Has("packages", 2)) return ScanFormat::kOsv;
  if (h.Has("spdxVersion", 1)) {
    return NotAScan(source,
                    "an SPDX SBOM, which lists no vulnerabilities (scan it with Grype "
                    "or Trivy and import their report)");
  }
  if (h.root != '{') return NotAScan(source, "JSON that is not an object");
  if (h.keys.empty()) return NotAScan(source, "an empty JSON object");
  return NotAScan(source, "JSON with top-level keys " + h.RootKeys());
}

// --- other -------------------------------------------------------------------------------------

std::string_view KindOfBytes(std::string_view s) {
  if (s.starts_with("\x1f\x8b")) return "; a gzip-compressed file: decompress it first";
  if (s.starts_with("PK\x03\x04")) return "; a ZIP archive: extract the report first";
  if (s.starts_with("%PDF")) return "; a PDF document: export the scan as XML or JSON instead";
  const std::string_view line = s.substr(0, s.find('\n'));
  if (line.find(',') != std::string_view::npos) {
    if (line.find("Plugin ID") != std::string_view::npos) {
      return "; a Nessus CSV export: export the scan as .nessus (v2) instead";
    }
    return "; CSV text: export the scan as XML or JSON instead";
  }
  return {};
}

}  // namespace

std::string_view ScanFormatKey(ScanFormat f) {
  for (const auto& [format, key] : kFormatKeys) {
    if (format == f) return key;
  }
  return "unknown";
}

Result<ScanFormat> ParseScanFormatKey(std::string_view key) {
  std::string keys;
  for (const auto& [format, k] : kFormatKeys) {
    if (k == key) return format;
    keys += keys.empty() ? "" : ", ";
    keys += k;
  }
  return Status::InvalidArgument("unknown scan format \"" + std::string(key) +
                                 "\": expected one of " + keys);
}

std::string_view FixStateKey(FixState s) {
  switch (s) {
    case FixState::kUnknown: return "unknown";
    case FixState::kAvailable: return "available";
    case FixState::kNotAvailable: return "not-available";
    case FixState::kWontFix: return "wont-fix";
  }
  return "unknown";
}

std::string_view VexStateKey(VexState s) {
  switch (s) {
    case VexState::kNone: return "";
    case VexState::kAffected: return "affected";
    case VexState::kNotAffected: return "not_affected";
    case VexState::kFixed: return "fixed";
    case VexState::kUnderInvestigation: return "under_investigation";
  }
  return "";
}

Result<ScanFormat> DetectScanFormat(std::string_view head, std::string_view source) {
  head = head.substr(0, kHeadBytes);
  if (head.empty()) {
    return Status::InvalidArgument(std::string(source) + " is empty (0 bytes): not a scan report");
  }
  if (head.starts_with("\xff\xfe") || head.starts_with("\xfe\xff")) {
    return NotAScan(source, "UTF-16 text: save it as UTF-8 and import it again");
  }
  std::string_view text = head;
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
  const std::size_t first = SkipSpace(text, 0);
  if (first == text.size()) {
    return Status::InvalidArgument(std::string(source) +
                                   " holds only white space: not a scan report");
  }
  text.remove_prefix(first);
  switch (text.front()) {
    case '<': return DetectXml(text, source);
    case '{':
    case '[': return DetectJson(text, source);
    default: break;
  }
  if (text.starts_with("null") && SkipSpace(text, 4) == text.size()) return ScanFormat::kTrivy;
  return NotAScan(
      source, "a file starting with \"" + Preview(text) + "\"" + std::string(KindOfBytes(head)));
}

Status ParseScan(std::string_view data, ScanFormat format, std::string_view source,
                 ScanSink& sink) {
  switch (format) {
    case ScanFormat::kNessus: return ParseNessus(data, source, sink);
    case ScanFormat::kOpenVas: return ParseOpenVas(data, source, sink);
    case ScanFormat::kTrivy: return ParseTrivy(data, source, sink);
    case ScanFormat::kGrype: return ParseGrype(data, source, sink);
    case ScanFormat::kOsv: return ParseOsv(data, source, sink);
    case ScanFormat::kCycloneDx: return ParseCycloneDx(data, source, sink);
    case ScanFormat::kSarif: return ParseSarif(data, source, sink);
  }
  return Status::Internal("ParseScan: unknown ScanFormat " +
                          std::to_string(static_cast<int>(format)));
}

}  // namespace isms
