#include "formats/xml_stream.h"

#include <expat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <type_traits>

namespace isms {
namespace {

constexpr std::size_t kSliceBytes = std::size_t{1} << 20;

XML_Parser P(void* p) {
  return static_cast<XML_Parser>(p);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

}  // namespace

std::string_view XmlAttributes::Get(std::string_view name) const {
  for (const char** a = attrs_; a != nullptr && a[0] != nullptr; a += 2) {
    if (name == a[0]) return a[1];
  }
  return {};
}

struct XmlStream::Trampolines {
  static void Start(void* user, const XML_Char* name, const XML_Char** attrs) {
    auto* s = static_cast<XmlStream*>(user);
    if (s->stopped_) return;
    ++s->depth_;
    s->OnStart(name, XmlAttributes(attrs), s->depth_);
    s->text_.clear();
    s->SetCapturing(s->capture_next_);
    s->capture_next_ = false;
  }
  static void End(void* user, const XML_Char* name) {
    auto* s = static_cast<XmlStream*>(user);
    if (s->stopped_) return;
    s->OnEnd(name, s->depth_);
    --s->depth_;
    s->text_.clear();
    s->SetCapturing(false);
  }
  static void Text(void* user, const XML_Char* data, int len) {
    auto* s = static_cast<XmlStream*>(user);
    if (s->stopped_) return;
    s->text_.append(data, static_cast<std::size_t>(len));
  }
  static void EntityDecl(void* user, const XML_Char* name, int, const XML_Char*, int,
                         const XML_Char*, const XML_Char*, const XML_Char*, const XML_Char*) {
    auto* s = static_cast<XmlStream*>(user);
    if (s->stopped_) return;
    s->Stop(s->ErrorHere("the document declares an XML entity (\"" + std::string(name) +
                         "\"), which scanner reports never do; refused for safety"));
  }
};

void XmlStream::SetCapturing(bool on) {
  if (on == capturing_) return;
  capturing_ = on;
  XML_SetCharacterDataHandler(P(parser_), on ? &Trampolines::Text : nullptr);
}

void XmlStream::Stop(Status status) {
  if (stopped_) return;
  stopped_ = true;
  stop_status_ = std::move(status);
  XML_StopParser(P(parser_), XML_FALSE);
}

Status XmlStream::ErrorHere(std::string_view message) const {
  const auto line = XML_GetCurrentLineNumber(P(parser_));
  const auto column = XML_GetCurrentColumnNumber(P(parser_)) + 1;
  return Status::InvalidArgument(std::string(source_) + ": line " + std::to_string(line) +
                                 ", column " + std::to_string(column) + ": " +
                                 std::string(message));
}

std::uint64_t XmlStream::ByteOffset() const {
  const XML_Index i = XML_GetCurrentByteIndex(P(parser_));
  return i < 0 ? 0 : static_cast<std::uint64_t>(i);
}

Status XmlStream::Parse(std::string_view data, std::string_view source) {
  source_ = source;
  if (data.empty()) {
    return Status::InvalidArgument(std::string(source) + " is empty (0 bytes): not a scan report");
  }
  std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> parser(
      XML_ParserCreate(nullptr), &XML_ParserFree);
  if (!parser) return Status::Internal("cannot create an XML parser: out of memory");
  parser_ = parser.get();
  XML_SetUserData(parser.get(), this);
  XML_SetElementHandler(parser.get(), &Trampolines::Start, &Trampolines::End);
  XML_SetEntityDeclHandler(parser.get(), &Trampolines::EntityDecl);

  Status result;
  std::size_t offset = 0;
  do {
    const std::size_t n = std::min(kSliceBytes, data.size() - offset);
    const bool last = offset + n == data.size();
    if (XML_Parse(parser.get(), data.data() + offset, static_cast<int>(n), last) != XML_STATUS_OK) {
      if (stopped_) {
        result = stop_status_;
      } else {
        result = ErrorHere(std::string(XML_ErrorString(XML_GetErrorCode(parser.get()))) +
                           "; the file is damaged or truncated");
      }
      break;
    }
    offset += n;
  } while (offset < data.size());
  if (result.ok() && stopped_) result = stop_status_;
  if (result.ok()) OnDocumentEnd();
  if (result.ok() && stopped_) result = stop_status_;
  parser_ = nullptr;
  return result;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string CollapseSpace(std::string_view s) {
  s = TrimSpace(s);
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (IsSpace(c)) {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string TidyLines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int pending_breaks = 0;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    const std::string_view line = TrimSpace(s.substr(0, nl));
    s = nl == std::string_view::npos ? std::string_view() : s.substr(nl + 1);
    if (line.empty()) {
      if (!out.empty()) ++pending_breaks;
      continue;
    }
    if (!out.empty()) out.append(pending_breaks > 0 ? "\n\n" : "\n");
    pending_breaks = 0;
    out.append(line);
  }
  return out;
}

void AppendUnique(std::vector<std::string>& list, std::string value) {
  if (value.empty()) return;
  if (std::find(list.begin(), list.end(), value) != list.end()) return;
  list.push_back(std::move(value));
}

std::string NormalizeCve(std::string_view s) {
  s = TrimSpace(s);
  if (s.size() < 9) return {};
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (out.compare(0, 4, "CVE-") != 0) return {};
  for (std::size_t i = 4; i < out.size(); ++i) {
    const char c = out[i];
    if (!(std::isdigit(static_cast<unsigned char>(c)) || (c == '-' && i == 8))) return {};
  }
  return out;
}

std::string NormalizeCwe(std::string_view s) {
  s = TrimSpace(s);
  if (s.size() > 4 && (s[0] == 'C' || s[0] == 'c') && (s[1] == 'W' || s[1] == 'w') &&
      (s[2] == 'E' || s[2] == 'e') && s[3] == '-') {
    s.remove_prefix(4);
  }
  if (s.empty()) return {};
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return {};
  }
  return "CWE-" + std::string(s);
}

std::string_view HostNameKind(std::string_view s) {
  s = TrimSpace(s);
  if (s.empty()) return "host";
  int dots = 0;
  bool digits_and_dots = true;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      digits_and_dots = false;
    }
  }
  if (digits_and_dots && dots == 3) return "ip";
  const auto colons = std::count(s.begin(), s.end(), ':');
  const auto dashes = std::count(s.begin(), s.end(), '-');
  if (s.size() == 17 && (colons == 5 || dashes == 5)) {
    bool mac = true;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (i % 3 == 2 ? s[i] != ':' && s[i] != '-' : !IsHex(s[i])) mac = false;
    }
    if (mac) return "mac";
  }
  if (colons >= 2) {
    const bool v6 = std::all_of(
        s.begin(), s.end(), [](char c) { return IsHex(c) || c == ':' || c == '.' || c == '%'; });
    if (v6) return "ip";
  }
  if (dots > 0) return "fqdn";
  return "host";
}

}  // namespace isms
