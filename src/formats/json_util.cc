#include "formats/json_util.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace isms::json {
namespace {

constexpr std::size_t kPage = 4096;

// Whether the SIMDJSON_PADDING bytes after `data` can be read without a fault: they lie in
// the page of the last byte. Never under AddressSanitizer, which would see the read.
bool PaddingReadable(std::string_view data) {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return false;
#endif
#endif
  if (data.empty()) return false;
  auto last = reinterpret_cast<std::uintptr_t>(data.data()) + data.size() - 1;
  return last / kPage == (last + simdjson::SIMDJSON_PADDING) / kPage;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char Upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

}  // namespace

std::string Path::ToString() const {
  std::vector<const Path*> chain;
  for (const Path* p = this; p != nullptr; p = p->parent_) chain.push_back(p);
  std::string out = "$";
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Path* p = *it;
    if (p->parent_ == nullptr) continue;
    if (p->index_ != kNoIndex) {
      out += "[" + std::to_string(p->index_) + "]";
    } else {
      out += ".";
      out += p->key_;
    }
  }
  return out;
}

Status JsonReader::Open(std::string_view data, std::string_view source) {
  source_ = std::string(source);
  if (data.size() >= 2 &&
      ((data[0] == '\xFF' && data[1] == '\xFE') || (data[0] == '\xFE' && data[1] == '\xFF'))) {
    return Status::InvalidArgument(source_ + " is UTF-16: save it as UTF-8");
  }
  if (data.size() >= 4 && data[0] == 0 && data[1] == 0 && data[2] == '\xFE' && data[3] == '\xFF') {
    return Status::InvalidArgument(source_ + " is UTF-32: save it as UTF-8");
  }
  if (data.size() >= 2 && (data[0] == 0 || data[1] == 0)) {
    return Status::InvalidArgument(source_ +
                                   " is UTF-16 or binary, not JSON text: save it as UTF-8");
  }
  if (data.size() >= 3 && data.substr(0, 3) == "\xEF\xBB\xBF") {
    data.remove_prefix(3);
    skipped_ = 3;
  }
  if (std::all_of(data.begin(), data.end(), IsSpace)) {
    return Status::InvalidArgument(
        source_ + ": the file is empty: the scanner wrote no report; run it again");
  }
  simdjson::padded_string_view view;
  if (PaddingReadable(data)) {
    view = simdjson::padded_string_view(data.data(), data.size(),
                                        data.size() + simdjson::SIMDJSON_PADDING);
  } else {
    copy_ = simdjson::padded_string(data);
    view = simdjson::padded_string_view(copy_);
  }
  base_ = view.data();
  size_ = view.length();
  if (auto e = parser_.allocate(std::max<std::size_t>(size_, 1))) return SyntaxError(e);
  if (auto e = parser_.iterate(view).get(doc_)) {
    std::string what = simdjson::error_message(e);
    if (!what.empty() && what.back() == '.') what.pop_back();
    std::string where;
    if (e == simdjson::UNCLOSED_STRING || e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
      where = "byte " + std::to_string(skipped_ + size_) + ": ";
    }
    return Status::InvalidArgument(source_ + ": " + where + what +
                                   "; the file is damaged or truncated");
  }
  return Status::Ok();
}

Status JsonReader::Rewind() {
  doc_.rewind();
  return Status::Ok();
}

std::uint64_t JsonReader::OffsetOf(const char* p) const {
  if (p < base_ || p > base_ + size_) return skipped_ + size_;
  return skipped_ + static_cast<std::uint64_t>(p - base_);
}

std::uint64_t JsonReader::OffsetOf(od::value& v) {
  return OffsetOf(v.raw_json_token().data());
}

Status JsonReader::SyntaxError(simdjson::error_code e) {
  std::uint64_t offset = skipped_ + size_;
  const char* p = nullptr;
  if (e != simdjson::INCOMPLETE_ARRAY_OR_OBJECT && !doc_.current_location().get(p)) {
    offset = OffsetOf(p);
  }
  std::string what = simdjson::error_message(e);
  if (!what.empty() && what.back() == '.') what.pop_back();
  return Status::InvalidArgument(source_ + ": byte " + std::to_string(offset) + ": " + what +
                                 "; the file is damaged or truncated");
}

Status JsonReader::Error(simdjson::error_code e, const Path& path, std::string_view expected) {
  if (e == simdjson::INCORRECT_TYPE) return Invalid(path, "expected " + std::string(expected));
  return SyntaxError(e);
}

Status JsonReader::Invalid(const Path& path, std::string_view message) const {
  return Status::InvalidArgument(source_ + ": " + path.ToString() + ": " + std::string(message));
}

Status JsonReader::Object(od::value& v, const Path& path, od::object& out) {
  if (auto e = v.get_object().get(out)) return Error(e, path, "an object");
  return Status::Ok();
}

Status JsonReader::Array(od::value& v, const Path& path, od::array& out) {
  if (auto e = v.get_array().get(out)) return Error(e, path, "an array");
  return Status::Ok();
}

Status JsonReader::OptObject(od::value& v, const Path& path, std::optional<od::object>& out) {
  out.reset();
  if (IsNull(v)) return Status::Ok();
  od::object obj;
  ISMS_RETURN_IF_ERROR(Object(v, path, obj));
  out = obj;
  return Status::Ok();
}

Status JsonReader::OptArray(od::value& v, const Path& path, std::optional<od::array>& out) {
  out.reset();
  if (IsNull(v)) return Status::Ok();
  od::array arr;
  ISMS_RETURN_IF_ERROR(Array(v, path, arr));
  out = arr;
  return Status::Ok();
}

bool JsonReader::IsNull(od::value& v) {
  bool null = false;
  if (v.is_null().get(null)) return false;
  return null;
}

Status JsonReader::String(od::value& v, const Path& path, std::string_view& out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return SyntaxError(e);
  switch (type) {
    case od::json_type::string:
      if (auto e = v.get_string().get(out)) return SyntaxError(e);
      return Status::Ok();
    case od::json_type::null:
      out = {};
      (void)IsNull(v);
      return Status::Ok();
    case od::json_type::number:
    case od::json_type::boolean: {
      std::string_view token = v.raw_json_token();
      while (!token.empty() && IsSpace(token.back())) token.remove_suffix(1);
      out = token;
      return Status::Ok();
    }
    default: return Invalid(path, "expected a string");
  }
}

Status JsonReader::StringTo(od::value& v, const Path& path, std::string& out) {
  std::string_view s;
  ISMS_RETURN_IF_ERROR(String(v, path, s));
  out.assign(s);
  return Status::Ok();
}

Status JsonReader::OptInt(od::value& v, const Path& path, std::optional<std::int64_t>& out) {
  out.reset();
  std::string_view s;
  ISMS_RETURN_IF_ERROR(String(v, path, s));
  if (s.empty() || s.size() > 18) return Status::Ok();
  std::int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Status::Ok();
    n = n * 10 + (c - '0');
  }
  out = n;
  return Status::Ok();
}

Status JsonReader::CheckEnd() {
  const char* p = nullptr;
  if (doc_.current_location().get(p)) return Status::Ok();
  const char* end = base_ + size_;
  while (p < end && IsSpace(*p)) ++p;
  if (p < end) return SyntaxError(simdjson::TRAILING_CONTENT);
  return Status::Ok();
}

bool IsCve(std::string_view id) {
  return id.size() > 4 && EqualsIgnoreCase(id.substr(0, 4), "CVE-");
}

void AddCve(RawFinding& f, std::string_view id) {
  std::string cve(id);
  std::transform(cve.begin(), cve.end(), cve.begin(), Upper);
  if (std::find(f.cves.begin(), f.cves.end(), cve) == f.cves.end()) {
    f.cves.push_back(std::move(cve));
  }
}

void AddId(RawFinding& f, std::string_view id) {
  if (id.empty()) return;
  if (IsCve(id)) {
    AddCve(f, id);
    return;
  }
  if (id == f.check_id) return;
  if (std::find(f.aliases.begin(), f.aliases.end(), id) == f.aliases.end()) {
    f.aliases.emplace_back(id);
  }
}

void AddCwe(RawFinding& f, std::string_view cwe) {
  if (cwe.size() > 4 && EqualsIgnoreCase(cwe.substr(0, 4), "CWE-")) cwe.remove_prefix(4);
  if (cwe.empty() || cwe.size() > 9) return;
  for (char c : cwe) {
    if (c < '0' || c > '9') return;
  }
  std::string id = "CWE-" + std::string(cwe);
  if (std::find(f.cwes.begin(), f.cwes.end(), id) == f.cwes.end()) f.cwes.push_back(std::move(id));
}

void AddCvss(RawFinding& f, std::string_view vector, std::string_view source, bool nvd) {
  if (vector.empty()) return;
  for (const CvssVector& c : f.cvss) {
    if (c.vector == vector && c.source == source) return;
  }
  f.cvss.push_back(CvssVector{std::string(vector), std::string(source), nvd});
}

void AddSeverity(RawFinding& f, std::string_view issuer, std::string_view value) {
  if (value.empty()) return;
  for (const SeverityWord& s : f.severities) {
    if (s.issuer == issuer && s.value == value) return;
  }
  f.severities.push_back(SeverityWord{std::string(issuer), std::string(value)});
}

std::optional<Date> DateOf(std::string_view text) {
  if (text.size() < 10) return std::nullopt;
  auto date = ParseDate(text.substr(0, 10));
  if (!date.ok()) return std::nullopt;
  return *date;
}

std::optional<Instant> InstantOf(std::string_view text) {
  auto t = ParseInstant(text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::string Component(std::string_view name, std::string_view version) {
  std::string out(name);
  if (!version.empty()) {
    if (!out.empty()) out += ' ';
    out += version;
  }
  return out;
}

}  // namespace isms::json
