#include "net/multipart.h"

#include <cctype>

namespace isms::net {

namespace {

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> HeaderParam(std::string_view value, std::string_view param) {
  size_t i = value.find(';');
  while (i != std::string_view::npos) {
    std::string_view rest = value.substr(i + 1);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key = LowerAscii(Trim(rest.substr(0, eq)));
    std::string_view v = rest.substr(eq + 1);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    std::string out;
    size_t next;
    if (!v.empty() && v.front() == '"') {
      size_t j = 1;
      for (; j < v.size() && v[j] != '"'; ++j) {
        if (v[j] == '\\' && j + 1 < v.size()) ++j;
        out.push_back(v[j]);
      }
      next = v.find(';', j);
    } else {
      next = v.find(';');
      out = std::string(Trim(v.substr(0, next)));
    }
    if (key == param) return out;
    if (next == std::string_view::npos) return std::nullopt;
    i = static_cast<size_t>(v.data() - value.data()) + next;
  }
  return std::nullopt;
}

std::optional<std::string> MultipartBoundary(std::string_view content_type) {
  std::string type = LowerAscii(Trim(content_type.substr(0, content_type.find(';'))));
  if (type != "multipart/form-data") return std::nullopt;
  std::optional<std::string> b = HeaderParam(content_type, "boundary");
  if (!b || b->empty() || b->size() > 70) return std::nullopt;
  return b;
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view boundary,
                                                  std::string_view body) {
  const std::string delim = "--" + std::string(boundary);
  auto bad = [&](size_t at, const std::string& what) {
    return Status::InvalidArgument("multipart body, byte " + std::to_string(at) + ": " + what +
                                   "; send multipart/form-data as RFC 7578 describes");
  };
  size_t pos = body.find(delim);
  if (pos == std::string_view::npos) return bad(0, "no opening boundary");
  std::vector<MultipartPart> parts;
  const std::string next_delim = "\r\n" + delim;
  while (true) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return parts;  // the closing boundary
    if (body.substr(pos, 2) != "\r\n") return bad(pos, "a boundary not followed by CRLF");
    pos += 2;
    size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return bad(pos, "a part whose headers never end");
    MultipartPart part;
    bool has_disposition = false;
    std::string_view headers = body.substr(pos, headers_end - pos);
    while (!headers.empty()) {
      size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name = LowerAscii(Trim(line.substr(0, colon)));
      std::string_view value = Trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        has_disposition = true;
        part.name = HeaderParam(value, "name").value_or("");
        part.filename = HeaderParam(value, "filename").value_or("");
      } else if (name == "content-type") {
        part.content_type = std::string(value);
      }
    }
    if (!has_disposition) return bad(pos, "a part without Content-Disposition");
    size_t data_start = headers_end + 4;
    size_t end = body.find(next_delim, data_start);
    if (end == std::string_view::npos) return bad(data_start, "no closing boundary");
    part.data = body.substr(data_start, end - data_start);
    parts.push_back(std::move(part));
    pos = end + 2;
  }
}

}  // namespace isms::net
