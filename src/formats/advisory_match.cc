#include "formats/advisory_match.h"

#include <array>
#include <cctype>
#include <optional>
#include <vector>

namespace isms {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

struct Purl {
  std::string type, ns, name, version;
};

// pkg:type/namespace/name@version?qualifiers#subpath
std::optional<Purl> ParsePurl(std::string_view s) {
  s = Trim(s);
  if (s.size() < 4 || Lower(s.substr(0, 4)) != "pkg:") return std::nullopt;
  s.remove_prefix(4);
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  if (size_t hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
  if (size_t q = s.find('?'); q != std::string_view::npos) s = s.substr(0, q);
  Purl p;
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  p.type = Lower(s.substr(0, slash));
  s.remove_prefix(slash + 1);
  if (size_t at = s.rfind('@'); at != std::string_view::npos) {
    p.version = PercentDecode(s.substr(at + 1));
    s = s.substr(0, at);
  }
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  const size_t last = s.rfind('/');
  if (last == std::string_view::npos) {
    p.name = PercentDecode(s);
  } else {
    p.name = PercentDecode(s.substr(last + 1));
    std::string_view ns = s.substr(0, last);
    std::string decoded;
    size_t start = 0;
    while (start <= ns.size()) {
      size_t end = ns.find('/', start);
      if (end == std::string_view::npos) end = ns.size();
      if (end > start) {
        if (!decoded.empty()) decoded += '/';
        decoded += PercentDecode(ns.substr(start, end - start));
      }
      start = end + 1;
    }
    p.ns = decoded;
  }
  if (p.name.empty()) return std::nullopt;
  static constexpr std::array<std::string_view, 8> kCaseless = {
      "github", "bitbucket", "pypi", "npm", "composer", "deb", "apk", "hex"};
  for (std::string_view t : kCaseless) {
    if (p.type == t) {
      p.ns = Lower(p.ns);
      p.name = Lower(p.name);
    }
  }
  if (p.type == "pypi") {
    for (char& c : p.name) {
      if (c == '_') c = '-';
    }
  }
  return p;
}

enum class CpeKind { kValue, kAny, kNa };
struct CpeValue {
  CpeKind kind = CpeKind::kAny;
  std::string text;  // lower case, unescaped; for 2.3, '*' and '?' kept as wildcards
  bool pattern = false;
};
struct Cpe {
  CpeValue vendor, product, version;
};

// Splits at ':' not escaped by a backslash.
std::vector<std::string> SplitCpe23(std::string_view s) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      parts.back() += s[i];
      parts.back() += s[++i];
    } else if (s[i] == ':') {
      parts.emplace_back();
    } else {
      parts.back() += s[i];
    }
  }
  return parts;
}

CpeValue Cpe23Value(std::string_view raw) {
  CpeValue v;
  if (raw == "*" || raw.empty()) return v;
  if (raw == "-") {
    v.kind = CpeKind::kNa;
    return v;
  }
  v.kind = CpeKind::kValue;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      const char next = raw[++i];
      if (next == '*' || next == '?') {
        v.text += '\\';
        v.pattern = true;
      }
      v.text += static_cast<char>(std::tolower(static_cast<unsigned char>(next)));
    } else {
      if (c == '*' || c == '?') v.pattern = true;
      v.text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return v;
}

CpeValue Cpe22Value(std::string_view raw) {
  CpeValue v;
  if (raw.empty()) return v;
  if (raw == "-") {
    v.kind = CpeKind::kNa;
    return v;
  }
  v.kind = CpeKind::kValue;
  const std::string decoded = PercentDecode(raw);
  for (char c : decoded) {
    if (c == '*' || c == '?' || c == '\\') {
      v.text += '\\';
      v.pattern = true;
    }
    v.text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return v;
}

std::optional<Cpe> ParseCpe(std::string_view s) {
  s = Trim(s);
  const std::string lower = Lower(s.substr(0, std::min<size_t>(s.size(), 8)));
  Cpe cpe;
  if (lower.rfind("cpe:2.3:", 0) == 0) {
    std::vector<std::string> parts = SplitCpe23(s);
    if (parts.size() < 6) return std::nullopt;
    cpe.vendor = Cpe23Value(parts[3]);
    cpe.product = Cpe23Value(parts[4]);
    cpe.version = Cpe23Value(parts[5]);
    return cpe;
  }
  if (lower.rfind("cpe:/", 0) == 0) {
    std::string_view rest = s.substr(5);
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
      size_t end = rest.find(':', start);
      parts.push_back(rest.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    parts.resize(std::max<size_t>(parts.size(), 4));
    cpe.vendor = Cpe22Value(parts[1]);
    cpe.product = Cpe22Value(parts[2]);
    cpe.version = Cpe22Value(parts[3]);
    return cpe;
  }
  return std::nullopt;
}

// Glob match of `text` against `pattern` ('*' any run, '?' one character, '\\' escapes), in
// linear time per star (the classic greedy match with one backtrack point).
bool Glob(std::string_view pattern, std::string_view text) {
  struct Token {
    char c;
    bool any_one, any_run;
  };
  std::vector<Token> tokens;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      tokens.push_back({pattern[++i], false, false});
    } else {
      tokens.push_back({pattern[i], pattern[i] == '?', pattern[i] == '*'});
    }
  }
  size_t t = 0, x = 0, star = std::string_view::npos, star_x = 0;
  while (x < text.size()) {
    if (t < tokens.size() && tokens[t].any_run) {
      star = t++;
      star_x = x;
    } else if (t < tokens.size() && (tokens[t].any_one || tokens[t].c == text[x])) {
      ++t;
      ++x;
    } else if (star != std::string_view::npos) {
      t = star + 1;
      x = ++star_x;
    } else {
      return false;
    }
  }
  while (t < tokens.size() && tokens[t].any_run) ++t;
  return t == tokens.size();
}

std::string Unescaped(const CpeValue& v) {
  if (!v.pattern) return v.text;
  std::string out;
  for (size_t i = 0; i < v.text.size(); ++i) {
    if (v.text[i] == '\\' && i + 1 < v.text.size()) ++i;
    out += v.text[i];
  }
  return out;
}

bool CpeValueMatches(const CpeValue& a, const CpeValue& b, bool version) {
  if (a.kind == CpeKind::kAny || b.kind == CpeKind::kAny) return true;
  if (a.kind == CpeKind::kNa || b.kind == CpeKind::kNa) return a.kind == b.kind;
  if (a.pattern && Glob(a.text, Unescaped(b))) return true;
  if (b.pattern && Glob(b.text, Unescaped(a))) return true;
  const std::string x = Unescaped(a), y = Unescaped(b);
  return version ? NormaliseVersion(x) == NormaliseVersion(y) : x == y;
}

bool IsSeparator(char c) {
  return c == '-' || c == '_' || c == '.' || std::isspace(static_cast<unsigned char>(c));
}

}  // namespace

std::string NormaliseProductName(std::string_view name) {
  std::string out;
  bool pending_separator = false;
  for (char c : name) {
    if (IsSeparator(c)) {
      pending_separator = !out.empty();
      continue;
    }
    if (pending_separator) out += '-';
    pending_separator = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string NormaliseVersion(std::string_view version) {
  std::string_view v = Trim(version);
  size_t digits = 0;
  while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits]))) ++digits;
  if (digits > 0 && digits + 1 < v.size() && v[digits] == ':') v.remove_prefix(digits + 1);
  if (v.size() > 1 && (v[0] == 'v' || v[0] == 'V') &&
      std::isdigit(static_cast<unsigned char>(v[1]))) {
    v.remove_prefix(1);
  }
  return Lower(v);
}

bool ProductMatches(const AdvisoryProduct& product, std::string_view purl, std::string_view cpe,
                    std::string_view name, std::string_view version) {
  const std::optional<Purl> a_purl = ParsePurl(product.purl), b_purl = ParsePurl(purl);
  if (a_purl && b_purl) {
    return a_purl->type == b_purl->type && a_purl->ns == b_purl->ns &&
           a_purl->name == b_purl->name && !a_purl->version.empty() &&
           NormaliseVersion(a_purl->version) == NormaliseVersion(b_purl->version);
  }
  const std::optional<Cpe> a_cpe = ParseCpe(product.cpe), b_cpe = ParseCpe(cpe);
  if (a_cpe && b_cpe) {
    return CpeValueMatches(a_cpe->vendor, b_cpe->vendor, false) &&
           CpeValueMatches(a_cpe->product, b_cpe->product, false) &&
           CpeValueMatches(a_cpe->version, b_cpe->version, true);
  }
  const std::string_view own_name = product.product.empty() ? product.name : product.product;
  const std::string a_name = NormaliseProductName(own_name), b_name = NormaliseProductName(name);
  const std::string a_version = NormaliseVersion(product.version),
                    b_version = NormaliseVersion(version);
  return !a_name.empty() && a_name == b_name && !a_version.empty() && a_version == b_version;
}

}  // namespace isms
