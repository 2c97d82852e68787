#include "formats/xml_stream.h"

#include <expat.h>
#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <unordered_set>

#include "core/ascii.h"

namespace isms {
namespace {

constexpr std::size_t kSliceBytes = std::size_t{1} << 20;

// expat's wording, kept for the fast path's errors of the same kind.
constexpr std::string_view kInvalidToken = "not well-formed (invalid token)";
constexpr std::string_view kUnclosedToken = "unclosed token";
constexpr std::string_view kNoElement = "no element found";
constexpr std::string_view kPartialChar = "partial character";
constexpr std::string_view kMismatchedTag = "mismatched tag";
constexpr std::string_view kDuplicateAttribute = "duplicate attribute";
constexpr std::string_view kJunkAfterRoot = "junk after document element";
constexpr std::string_view kUndefinedEntity = "undefined entity";
constexpr std::string_view kBadCharRef = "reference to invalid character number";
constexpr std::string_view kMisplacedXmlDecl = "XML or text declaration not at start of entity";
constexpr std::string_view kUnclosedCdata = "unclosed CDATA section";
constexpr std::string_view kDamaged = "; the file is damaged or truncated";

XML_Parser P(void* p) {
  return static_cast<XML_Parser>(p);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// XML's white space (S): space, TAB, LF, CR.
bool IsXmlSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Name characters of ASCII bytes; bytes above 0x7F are marked kHigh and left to expat's rules.
enum : std::uint8_t { kNameStart = 1, kNameChar = 2, kHigh = 4 };

constexpr std::array<std::uint8_t, 256> MakeNameTable() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool start = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool more = start || (c >= '0' && c <= '9') || c == '-' || c == '.';
    t[c] = static_cast<std::uint8_t>((start ? kNameStart : 0) | (more ? kNameChar : 0) |
                                     (c >= 0x80 ? kHigh : 0));
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kNameTable = MakeNameTable();

std::uint8_t NameClass(char c) {
  return kNameTable[static_cast<unsigned char>(c)];
}

const char* SkipXmlSpace(const char* q, const char* e) {
  while (q < e && IsXmlSpace(*q)) ++q;
  return q;
}

// Whether a byte at `i` breaks the character rules: a control character other than TAB, LF,
// CR; with `ascii_only`, any byte above 0x7F; the start of U+FFFE or U+FFFF (EF BF BE/BF).
bool IsBadByteAt(std::string_view d, std::size_t i, bool ascii_only) {
  const auto c = static_cast<unsigned char>(d[i]);
  if (c < 0x20) return c != '\t' && c != '\n' && c != '\r';
  if (c >= 0x80 && ascii_only) return true;
  return c == 0xEF && i + 2 < d.size() && static_cast<unsigned char>(d[i + 1]) == 0xBF &&
         (static_cast<unsigned char>(d[i + 2]) & 0xFE) == 0xBE;
}

// Whether any byte of `d` breaks the rules of IsBadByteAt: 16 bytes at a time, candidates
// (control bytes, 0xEF, high bytes when `ascii_only`) checked one by one.
bool HasBadByte(std::string_view d, bool ascii_only) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i k1f = _mm_set1_epi8(0x1F);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i ef = _mm_set1_epi8(static_cast<char>(0xEF));
  for (; i + 16 <= d.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d.data() + i));
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, k1f), k1f);  // v <= 0x1F
    const __m128i allowed = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, lf)), _mm_cmpeq_epi8(v, cr));
    const __m128i candidate =
        _mm_or_si128(_mm_andnot_si128(allowed, control), _mm_cmpeq_epi8(v, ef));
    int mask = _mm_movemask_epi8(candidate);
    if (ascii_only) mask |= _mm_movemask_epi8(v);
    if (mask == 0) continue;
    for (std::size_t j = 0; j < 16; ++j) {
      if ((mask >> j) & 1) {
        if (IsBadByteAt(d, i + j, ascii_only)) return true;
      }
    }
  }
#endif
  for (; i < d.size(); ++i) {
    if (IsBadByteAt(d, i, ascii_only)) return true;
  }
  return false;
}

struct BadByte {
  std::size_t offset;
  std::string_view message;
};

// The first place where `d` is not a sequence of XML characters in UTF-8 (see IsBadByteAt), with
// expat's message for it: "partial character" for a sequence cut by the end of the document.
std::optional<BadByte> FirstBadByte(std::string_view d, bool ascii_only) {
  // A clean document (the rule) is told by the vector checks; only a bad one is walked.
  const bool clean = ascii_only
                         ? !HasBadByte(d, true)
                         : simdjson::validate_utf8(d.data(), d.size()) && !HasBadByte(d, false);
  if (clean) return std::nullopt;
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(d[i]); };
  std::size_t i = 0;
  while (i < d.size()) {
    const unsigned char c = at(i);
    if (c < 0x80) {
      if (IsBadByteAt(d, i, ascii_only)) return BadByte{i, kInvalidToken};
      ++i;
      continue;
    }
    if (ascii_only) return BadByte{i, kInvalidToken};
    // expat's classes: C0-DF lead 2, E0-EF lead 3, F0-F4 lead 4; a lead cut by the end is a
    // partial character, whatever follows it.
    std::size_t len = 0;
    if (c >= 0xC0 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    } else {
      return BadByte{i, kInvalidToken};
    }
    if (d.size() - i < len) return BadByte{i, kPartialChar};
    bool ok = c >= 0xC2 && c <= 0xF4;
    for (std::size_t k = 1; k < len && ok; ++k) ok = (at(i + k) & 0xC0) == 0x80;
    if (ok && len == 3) {
      const unsigned char c1 = at(i + 1);
      if (c == 0xE0 && c1 < 0xA0) ok = false;                                 // overlong
      if (c == 0xED && c1 >= 0xA0) ok = false;                                // surrogate
      if (c == 0xEF && c1 == 0xBF && (at(i + 2) & 0xFE) == 0xBE) ok = false;  // U+FFFE/F
    }
    if (ok && len == 4) {
      const unsigned char c1 = at(i + 1);
      if (c == 0xF0 && c1 < 0x90) ok = false;   // overlong
      if (c == 0xF4 && c1 >= 0x90) ok = false;  // above U+10FFFF
    }
    if (!ok) return BadByte{i, kInvalidToken};
    i += len;
  }
  return std::nullopt;
}

bool IsXmlChar(std::uint32_t v) {
  return v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) ||
         (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF);
}

void AppendUtf8(std::string& out, std::uint32_t v) {
  if (v < 0x80) {
    out.push_back(static_cast<char>(v));
  } else if (v < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (v >> 6)));
    out.push_back(static_cast<char>(0x80 | (v & 0x3F)));
  } else if (v < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (v >> 12)));
    out.push_back(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (v & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (v >> 18)));
    out.push_back(static_cast<char>(0x80 | ((v >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((v >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (v & 0x3F)));
  }
}

// The first byte of text that needs a look: '<', '&', ']' (for "]]>"), and with `cr` also CR
// (line ends to normalise in captured text); `e` when none.
const char* FindTextSpecial(const char* q, const char* e, bool cr) {
#if defined(__SSE2__)
  const __m128i lt = _mm_set1_epi8('<');
  const __m128i amp = _mm_set1_epi8('&');
  const __m128i bracket = _mm_set1_epi8(']');
  const __m128i cret = _mm_set1_epi8(cr ? '\r' : '<');
  while (e - q >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, amp)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, bracket), _mm_cmpeq_epi8(v, cret)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return q + __builtin_ctz(static_cast<unsigned>(mask));
    q += 16;
  }
#endif
  while (q < e && *q != '<' && *q != '&' && *q != ']' && !(cr && *q == '\r')) ++q;
  return q;
}

// "FILE: line L, column C: MESSAGE", the form of every error at a place in the document.
Status PositionError(std::string_view source, std::uint64_t line, std::uint64_t column,
                     std::string_view message) {
  return Status::InvalidArgument(std::string(source) + ": line " + std::to_string(line) +
                                 ", column " + std::to_string(column) + ": " +
                                 std::string(message));
}

using ExpatParser = std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)>;

// Whether expat takes `name` as an XML name (asked with a one-element document), with `parser`
// made on the first question and reset for the next.
bool ExpatAcceptsName(ExpatParser& parser, std::string_view name) {
  if (parser) {
    XML_ParserReset(parser.get(), "UTF-8");
  } else {
    parser.reset(XML_ParserCreate("UTF-8"));
    if (!parser) return false;
  }
  const std::string doc = "<" + std::string(name) + "/>";
  return XML_Parse(parser.get(), doc.data(), static_cast<int>(doc.size()), XML_TRUE) ==
         XML_STATUS_OK;
}

}  // namespace

std::string_view XmlAttributes::Get(std::string_view name) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (attrs_[i].first == name) return attrs_[i].second;
  }
  return {};
}

// CR LF, CR and LF each end a line; a column is a character (not a byte), as expat counts.
std::pair<std::uint64_t, std::uint64_t> XmlStream::LineCounter::At(std::string_view data,
                                                                   std::size_t to) {
  to = std::min(to, data.size());
  if (to < offset) *this = LineCounter();
  for (std::size_t i = offset; i < to; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c == '\n') {
      if (!after_cr) ++line;
      column = 0;
      after_cr = false;
    } else if (c == '\r') {
      ++line;
      column = 0;
      after_cr = true;
    } else {
      after_cr = false;
      if ((c & 0xC0) != 0x80) ++column;
    }
  }
  offset = to;
  return {line, column + 1};
}

// The fast path (see xml_stream.h): one pass over the document in memory, every error at the
// byte where expat would report it.
class XmlStream::Fast {
 public:
  enum class Outcome { kDone, kError, kDecline };

  Fast(XmlStream& s, std::string_view data)
      : s_(s), data_(data), b_(data.data()), end_(data.data() + data.size()), e_(end_) {}

  Outcome Run();

  const Status& status() const { return status_; }
  const std::string& decline_reason() const { return decline_reason_; }
  // Whether any event reached the handlers.
  bool emitted() const { return emitted_; }

 private:
  // Sets the error "FILE: line L, column C: MESSAGE; the file is ..." at `at`; returns false.
  bool Fail(const char* at, std::string_view message) {
    const auto [line, column] = LineCounter().At(data_, static_cast<std::size_t>(at - b_));
    status_ = PositionError(s_.source_, line, column, std::string(message) + std::string(kDamaged));
    return false;
  }
  // The document ran out (at e_): the first bad byte when that is what stopped it (a character
  // cut by the end of the document at `at`, as expat reports it), else the end-of-document error
  // `message` at `at` (where the token being read starts).
  bool AtLimit(const char* at, std::string_view message) {
    if (e_ != end_) return Fail(bad_message_ == kPartialChar ? at : e_, bad_message_);
    return Fail(at, message);
  }
  // The same where a given ASCII character must come next: expat then calls a cut character
  // an invalid token, not a partial character.
  bool Expecting(const char* at, std::string_view message) {
    if (e_ != end_) return Fail(e_, kInvalidToken);
    return Fail(at, message);
  }

  bool XmlDeclaration(const char*& p, bool& ascii_only);
  const char* ScanName(const char* q, const char* lim);
  bool CheckName(const char* s, const char* q);
  const char* Reference(const char* amp, const char* lim, bool meaning, std::string* out,
                        const char* undefined_at);
  bool Text();
  bool StartTag();
  bool EndTag();
  bool Markup(bool epilog);  // at "<!": a comment, or in content a CDATA section
  bool Pi(bool epilog);      // at "<?"
  bool Epilog();
  void EmitEnd(std::string_view name);

  XmlStream& s_;
  std::string_view data_;
  const char* b_;
  const char* end_;  // the end of the document
  const char* e_;    // where reading stops: the end, or the first byte that is not a character
  std::string_view bad_message_;
  const char* p_ = nullptr;
  Status status_;
  std::string decline_reason_;
  bool emitted_ = false;
  std::vector<std::string_view> stack_;
  std::vector<XmlAttributes::Attribute> attrs_;
  struct RawValue {
    const char* begin;
    const char* end;
    bool plain;  // no reference, TAB, LF or CR: the value is the raw bytes
  };
  std::vector<RawValue> raw_values_;
  std::vector<std::string> attr_buffers_;
  std::unordered_set<std::string> good_names_;
  ExpatParser name_parser_{nullptr, &XML_ParserFree};
  std::unordered_set<std::string_view> seen_names_;
};

bool XmlStream::Fast::XmlDeclaration(const char*& p, bool& ascii_only) {
  const char* q = p + 5;  // after "<?xml"
  const auto space = [&] {
    const char* from = q;
    q = SkipXmlSpace(q, end_);
    return q != from;
  };
  const auto literal = [&](std::string_view w) {
    if (static_cast<std::size_t>(end_ - q) < w.size() || std::memcmp(q, w.data(), w.size()) != 0) {
      return false;
    }
    q += w.size();
    return true;
  };
  const auto eq = [&] {
    space();
    if (!literal("=")) return false;
    space();
    return true;
  };
  const auto quoted = [&](std::string_view& v) {
    if (q >= end_ || (*q != '"' && *q != '\'')) return false;
    const char quote = *q;
    const char* close = q + 1;
    while (close < end_ && close - q < 64 && *close != quote) ++close;
    if (close >= end_ || *close != quote) return false;
    v = std::string_view(q + 1, static_cast<std::size_t>(close - q - 1));
    q = close + 1;
    return true;
  };
  std::string_view value;
  if (!space() || !literal("version") || !eq() || !quoted(value) || value != "1.0") return false;
  bool spaced = space();
  if (spaced && literal("encoding")) {
    if (!eq() || !quoted(value)) return false;
    if (EqualsIgnoreCase(value, "US-ASCII")) {
      ascii_only = true;
    } else if (!EqualsIgnoreCase(value, "UTF-8")) {
      return false;
    }
    spaced = space();
  }
  if (spaced && literal("standalone")) {
    if (!eq() || !quoted(value) || (value != "yes" && value != "no")) return false;
    space();
  }
  if (!literal("?>")) return false;
  p = q;
  return true;
}

// A name starting at q (< lim): its end, or nullptr after Fail at the first character that is
// not allowed.
const char* XmlStream::Fast::ScanName(const char* q, const char* lim) {
  const char* s = q;
  std::uint8_t cls = NameClass(*q);
  if ((cls & (kNameStart | kHigh)) == 0) {
    Fail(q, kInvalidToken);
    return nullptr;
  }
  bool high = (cls & kHigh) != 0;
  ++q;
  while (q < lim && ((cls = NameClass(*q)) & (kNameChar | kHigh)) != 0) {
    high |= (cls & kHigh) != 0;
    ++q;
  }
  if (high && !CheckName(s, q)) return nullptr;
  return q;
}

// A name with characters above ASCII: valid when expat says so (remembered); else the error
// is at the first character whose addition makes expat refuse it.
bool XmlStream::Fast::CheckName(const char* s, const char* q) {
  std::string name(s, q);
  if (good_names_.contains(name)) return true;
  if (ExpatAcceptsName(name_parser_, name)) {
    good_names_.insert(std::move(name));
    return true;
  }
  // A prefix is refused exactly when it holds a character refused at its place, so the first
  // such character is found by bisection over the character boundaries.
  std::vector<std::size_t> ends;  // the end of each character
  for (std::size_t k = 0; k < name.size();) {
    const auto c = static_cast<unsigned char>(name[k]);
    std::size_t len = 1;
    if (c >= 0xC0) len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    k = std::min(k + len, name.size());
    ends.push_back(k);
  }
  std::size_t lo = 0;                // the prefixes up to ends[i], i < lo, are accepted
  std::size_t hi = ends.size() - 1;  // the prefix up to ends[hi] is refused
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (ExpatAcceptsName(name_parser_, std::string_view(name).substr(0, ends[mid]))) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return Fail(s + (hi == 0 ? 0 : ends[hi - 1]), kInvalidToken);
}

// A reference at `amp`, within [amp, lim): returns the byte after its ';', or nullptr after
// Fail. With `meaning`, also checks that it names a character (undefined entity at
// `undefined_at`, an invalid character number at `amp`) and appends that character to `out`
// when given. Reaching `lim` is the end of the document when lim == e_ (an unclosed token at
// `undefined_at`: the reference in text, the tag in an attribute), else the byte at lim (an
// attribute's closing quote) is the error.
const char* XmlStream::Fast::Reference(const char* amp, const char* lim, bool meaning,
                                       std::string* out, const char* undefined_at) {
  // `ascii`: what must come next is an ASCII character (a digit, 'x' or ';').
  const auto ran_out = [&](bool ascii = false) -> const char* {
    if (lim == e_) {
      ascii ? Expecting(undefined_at, kUnclosedToken) : AtLimit(undefined_at, kUnclosedToken);
    } else {
      Fail(lim, kInvalidToken);
    }
    return nullptr;
  };
  const char* q = amp + 1;
  if (q >= lim) return ran_out();
  if (*q == '#') {
    ++q;
    if (q >= lim) return ran_out(true);
    const bool hex = *q == 'x';
    if (hex) ++q;
    const char* digits = q;
    std::uint32_t v = 0;
    for (; q < lim; ++q) {
      const char c = *q;
      std::uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        break;
      }
      v = std::min<std::uint32_t>(v * (hex ? 16 : 10) + d, 0x110000);
    }
    if (q >= lim) return ran_out(true);
    if (q == digits || *q != ';') {
      Fail(q, kInvalidToken);
      return nullptr;
    }
    if (meaning) {
      if (!IsXmlChar(v)) {
        Fail(amp, kBadCharRef);
        return nullptr;
      }
      if (out != nullptr) AppendUtf8(*out, v);
    }
    return q + 1;
  }
  const char* name_end = ScanName(q, lim);
  if (name_end == nullptr) return nullptr;
  if (name_end >= lim) return ran_out();
  if (*name_end != ';') {
    Fail(name_end, kInvalidToken);
    return nullptr;
  }
  if (meaning) {
    const std::string_view name(q, static_cast<std::size_t>(name_end - q));
    char c;
    if (name == "lt") {
      c = '<';
    } else if (name == "gt") {
      c = '>';
    } else if (name == "amp") {
      c = '&';
    } else if (name == "quot") {
      c = '"';
    } else if (name == "apos") {
      c = '\'';
    } else {
      Fail(undefined_at, kUndefinedEntity);
      return nullptr;
    }
    if (out != nullptr) out->push_back(c);
  }
  return name_end + 1;
}

// Character data from p_ up to the next '<' (p_ is left there): checked, and appended to the
// handler's text (decoded) while it captures.
bool XmlStream::Fast::Text() {
  const char* q = p_;
  // expat holds back a CR at the end (it might start a CR LF) and reports the end there.
  const auto ran_out = [&] {
    return AtLimit(e_ == end_ && e_ > p_ && e_[-1] == '\r' ? e_ - 1 : e_, kNoElement);
  };
  if (!s_.capturing_) {
    for (;;) {
      q = FindTextSpecial(q, e_, false);
      if (q == e_) return ran_out();
      if (*q == '<') break;
      if (*q == '&') {
        q = Reference(q, e_, true, nullptr, q);
        if (q == nullptr) return false;
        continue;
      }
      if (e_ - q > 2 && q[1] == ']' && q[2] == '>') return Fail(q + 2, kInvalidToken);
      ++q;
    }
    p_ = q;
    return true;
  }
  std::string& out = s_.text_;
  const char* run = q;
  for (;;) {
    q = FindTextSpecial(q, e_, true);
    if (q == e_) return ran_out();
    const char c = *q;
    if (c == '<') break;
    if (c == '&') {
      out.append(run, q);
      q = Reference(q, e_, true, &out, q);
      if (q == nullptr) return false;
      run = q;
    } else if (c == '\r') {
      out.append(run, q);
      out.push_back('\n');
      ++q;
      if (q < e_ && *q == '\n') ++q;
      run = q;
    } else {
      if (e_ - q > 2 && q[1] == ']' && q[2] == '>') return Fail(q + 2, kInvalidToken);
      ++q;
    }
  }
  out.append(run, q);
  p_ = q;
  return true;
}

bool XmlStream::Fast::StartTag() {
  const char* lt = p_;
  const char* q = ScanName(lt + 1, e_);
  if (q == nullptr) return false;
  if (q >= e_) return AtLimit(lt, kUnclosedToken);
  const std::string_view name(lt + 1, static_cast<std::size_t>(q - lt - 1));
  // First the syntax of the whole tag, as expat's tokenizer checks it...
  attrs_.clear();
  raw_values_.clear();
  bool empty = false;
  for (;;) {
    char c = *q;
    if (c == '>') {
      ++q;
      break;
    }
    if (c == '/') {
      if (q + 1 >= e_) return Expecting(lt, kUnclosedToken);
      if (q[1] != '>') return Fail(q + 1, kInvalidToken);
      q += 2;
      empty = true;
      break;
    }
    if (!IsXmlSpace(c)) return Fail(q, kInvalidToken);
    q = SkipXmlSpace(q + 1, e_);
    if (q >= e_) return AtLimit(lt, kUnclosedToken);
    c = *q;
    if (c == '>' || c == '/') continue;
    const char* attr_name = q;
    q = ScanName(q, e_);
    if (q == nullptr) return false;
    const std::string_view attr(attr_name, static_cast<std::size_t>(q - attr_name));
    const char* after_name = q;
    q = SkipXmlSpace(q, e_);
    if (q >= e_)
      return q == after_name ? AtLimit(lt, kUnclosedToken) : Expecting(lt, kUnclosedToken);
    if (*q != '=') return Fail(q, kInvalidToken);
    q = SkipXmlSpace(q + 1, e_);
    if (q >= e_) return Expecting(lt, kUnclosedToken);
    const char quote = *q;
    if (quote != '"' && quote != '\'') return Fail(q, kInvalidToken);
    const char* value = q + 1;
    const auto* found =
        static_cast<const char*>(std::memchr(value, quote, static_cast<std::size_t>(e_ - value)));
    // Without a closing quote the value runs to the end, where it is an error, unless one comes
    // before it (expat reads the value from left to right).
    const char* close = found != nullptr ? found : e_;
    bool plain = true;
    for (const char* v = value; v < close; ++v) {
      const char vc = *v;
      if (vc == '<') return Fail(v, kInvalidToken);
      if (vc == '&') {
        v = Reference(v, close, false, nullptr, lt);
        if (v == nullptr) return false;
        --v;
        plain = false;
      } else if (vc == '\t' || vc == '\n' || vc == '\r') {
        plain = false;
      }
    }
    if (found == nullptr) return AtLimit(lt, kUnclosedToken);
    attrs_.emplace_back(attr, std::string_view());
    raw_values_.push_back(RawValue{value, close, plain});
    q = close + 1;
    if (q >= e_) return Expecting(lt, kUnclosedToken);
  }
  // ...then, attribute by attribute, duplicates and what the references name.
  if (attr_buffers_.size() < attrs_.size()) attr_buffers_.resize(attrs_.size());
  // Duplicates: by comparison for the usual handful of attributes, by hash beyond.
  constexpr std::size_t kFewAttributes = 16;
  const bool many = attrs_.size() > kFewAttributes;
  if (many) seen_names_.clear();
  for (std::size_t i = 0; i < attrs_.size(); ++i) {
    bool duplicate = false;
    if (many) {
      duplicate = !seen_names_.insert(attrs_[i].first).second;
    } else {
      for (std::size_t j = 0; j < i && !duplicate; ++j) {
        duplicate = attrs_[j].first == attrs_[i].first;
      }
    }
    if (duplicate) return Fail(attrs_[i].first.data(), kDuplicateAttribute);
    const RawValue& raw = raw_values_[i];
    if (raw.plain) {
      attrs_[i].second = std::string_view(raw.begin, static_cast<std::size_t>(raw.end - raw.begin));
      continue;
    }
    std::string& out = attr_buffers_[i];
    out.clear();
    const char* run = raw.begin;
    for (const char* v = raw.begin; v < raw.end;) {
      const char vc = *v;
      if (vc == '&') {
        out.append(run, v);
        v = Reference(v, raw.end, true, &out, lt);
        if (v == nullptr) return false;
        run = v;
      } else if (vc == '\t' || vc == '\n' || vc == '\r') {
        out.append(run, v);
        out.push_back(' ');
        ++v;
        if (vc == '\r' && v < raw.end && *v == '\n') ++v;
        run = v;
      } else {
        ++v;
      }
    }
    out.append(run, raw.end);
    attrs_[i].second = out;
  }
  p_ = q;
  s_.event_offset_ = static_cast<std::uint64_t>(lt - b_);
  emitted_ = true;
  stack_.push_back(name);
  ++s_.depth_;
  s_.OnStart(name, XmlAttributes(attrs_.data(), attrs_.size()), s_.depth_);
  s_.text_.clear();
  s_.capturing_ = s_.capture_next_;
  s_.capture_next_ = false;
  if (empty && !s_.stopped_) {
    s_.event_offset_ = static_cast<std::uint64_t>(q - b_);  // expat: after the "/>"
    EmitEnd(name);
  }
  return true;
}

void XmlStream::Fast::EmitEnd(std::string_view name) {
  s_.OnEnd(name, s_.depth_);
  --s_.depth_;
  s_.text_.clear();
  s_.capturing_ = false;
  stack_.pop_back();
}

bool XmlStream::Fast::EndTag() {
  const char* lt = p_;
  const char* q = lt + 2;
  const std::string_view top = stack_.back();
  if (static_cast<std::size_t>(e_ - q) > top.size() &&
      std::memcmp(q, top.data(), top.size()) == 0 && q[top.size()] == '>') {
    q += top.size() + 1;
  } else {
    if (q >= e_) return AtLimit(lt, kUnclosedToken);
    const char* name_end = ScanName(q, e_);
    if (name_end == nullptr) return false;
    const char* r = SkipXmlSpace(name_end, e_);
    if (r >= e_) return r == name_end ? AtLimit(lt, kUnclosedToken) : Expecting(lt, kUnclosedToken);
    if (*r != '>') return Fail(r, kInvalidToken);
    if (std::string_view(q, static_cast<std::size_t>(name_end - q)) != top) {
      return Fail(q, kMismatchedTag);
    }
    q = r + 1;
  }
  p_ = q;
  s_.event_offset_ = static_cast<std::uint64_t>(lt - b_);
  EmitEnd(top);
  return true;
}

bool XmlStream::Fast::Markup(bool epilog) {
  const char* lt = p_;
  const char* q = lt + 2;
  if (q >= e_) return Expecting(lt, kUnclosedToken);
  if (*q == '-') {
    ++q;
    if (q >= e_) return Expecting(lt, kUnclosedToken);
    if (*q != '-') return Fail(q, kInvalidToken);
    ++q;
    const void* dashes = memmem(q, static_cast<std::size_t>(e_ - q), "--", 2);
    if (dashes == nullptr) return AtLimit(lt, kUnclosedToken);
    const char* d = static_cast<const char*>(dashes);
    if (d + 2 >= e_) return Expecting(lt, kUnclosedToken);
    if (d[2] != '>') return Fail(d + 2, kInvalidToken);
    p_ = d + 3;
    return true;
  }
  if (epilog) {
    if ((NameClass(*q) & (kNameStart | kHigh)) != 0) {
      const char* name_end = ScanName(q, e_);
      if (name_end == nullptr) return false;
      if (name_end >= e_) return AtLimit(lt, kUnclosedToken);
      return Fail(name_end, kInvalidToken);
    }
    return Fail(q, kInvalidToken);
  }
  if (*q != '[') return Fail(q, kInvalidToken);
  ++q;
  // expat wants all of "CDATA[" in hand before it compares (bytes that are not characters
  // included), so a shorter rest of the document is an unclosed token.
  static constexpr std::string_view kCdata = "CDATA[";
  if (static_cast<std::size_t>(end_ - q) < kCdata.size()) return Fail(lt, kUnclosedToken);
  for (char c : kCdata) {
    if (q >= e_ || *q != c) return Fail(q, kInvalidToken);
    ++q;
  }
  const void* close = memmem(q, static_cast<std::size_t>(e_ - q), "]]>", 3);
  if (close == nullptr) {
    // expat holds back a "]]", "]" or CR at the end, and reports the end where it starts.
    const char* at = e_;
    if (e_ != end_) {
      // a cut character: reported where it starts
    } else if (e_ - q >= 2 && e_[-1] == ']' && e_[-2] == ']') {
      at = e_ - 2;
    } else if (e_ - q >= 1 && (e_[-1] == ']' || e_[-1] == '\r')) {
      at = e_ - 1;
    }
    return AtLimit(at, kUnclosedCdata);
  }
  const char* c_end = static_cast<const char*>(close);
  if (s_.capturing_) {
    std::string& out = s_.text_;
    const char* run = q;
    for (const char* v = q; v < c_end;) {
      const auto* cr =
          static_cast<const char*>(std::memchr(v, '\r', static_cast<std::size_t>(c_end - v)));
      if (cr == nullptr) break;
      out.append(run, cr);
      out.push_back('\n');
      v = cr + 1;
      if (v < c_end && *v == '\n') ++v;
      run = v;
    }
    out.append(run, c_end);
  }
  p_ = c_end + 3;
  return true;
}

bool XmlStream::Fast::Pi(bool epilog) {
  const char* lt = p_;
  const char* q = lt + 2;
  if (q >= e_) return AtLimit(lt, kUnclosedToken);
  const char* name_end = ScanName(q, e_);
  if (name_end == nullptr) return false;
  if (name_end >= e_) return AtLimit(lt, kUnclosedToken);
  const std::string_view target(q, static_cast<std::size_t>(name_end - q));
  // "xml" in another case is refused at once; "xml" itself once the instruction is read whole.
  const bool xml = EqualsIgnoreCase(target, "xml");
  if (xml && target != "xml") return Fail(name_end, kInvalidToken);
  if (*name_end == '?') {
    if (name_end + 1 >= e_) return Expecting(lt, kUnclosedToken);
    if (name_end[1] != '>') return Fail(name_end + 1, kInvalidToken);
    p_ = name_end + 2;
  } else {
    if (!IsXmlSpace(*name_end)) return Fail(name_end, kInvalidToken);
    const void* close = memmem(name_end, static_cast<std::size_t>(e_ - name_end), "?>", 2);
    if (close == nullptr) return AtLimit(lt, kUnclosedToken);
    p_ = static_cast<const char*>(close) + 2;
  }
  if (xml) return Fail(lt, epilog ? kJunkAfterRoot : kMisplacedXmlDecl);
  return true;
}

bool XmlStream::Fast::Epilog() {
  for (;;) {
    const char* q = SkipXmlSpace(p_, e_);
    p_ = q;
    if (q >= e_) {
      if (e_ != end_) return Fail(e_, bad_message_);
      return true;
    }
    if (*q == '&') return Fail(q, kInvalidToken);
    if (*q != '<') {
      // expat reads junk as its prolog tokens: a name (or name token) ends at white space or
      // one of >),|[% ; anything else after it is an invalid token there.
      const char* r = q;
      while (r < e_ && (NameClass(*r) & kNameChar) != 0) ++r;
      if (r == q) return Fail(q, kJunkAfterRoot);
      if (r == e_) return e_ == end_ ? Fail(q, kJunkAfterRoot) : AtLimit(q, kJunkAfterRoot);
      if (IsXmlSpace(*r) || std::strchr(">),|[%", *r) != nullptr) return Fail(q, kJunkAfterRoot);
      return Fail(r, kInvalidToken);
    }
    if (q + 1 >= e_) return AtLimit(q, kUnclosedToken);
    const char c = q[1];
    bool ok;
    if (c == '?') {
      ok = Pi(true);
    } else if (c == '!') {
      ok = Markup(true);
    } else if ((NameClass(c) & (kNameStart | kHigh)) != 0) {
      return Fail(q, kJunkAfterRoot);
    } else {
      return Fail(q + 1, kInvalidToken);
    }
    if (!ok) return false;
  }
}

XmlStream::Fast::Outcome XmlStream::Fast::Run() {
  const char* p = b_;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(data_[i]); };
  if (data_.size() >= 2 && (byte(0) == 0 || byte(1) == 0 || (byte(0) == 0xFE && byte(1) == 0xFF) ||
                            (byte(0) == 0xFF && byte(1) == 0xFE))) {
    decline_reason_ = "a UTF-16 byte-order mark or a zero byte at the start";
    return Outcome::kDecline;
  }
  const bool bom = data_.size() >= 3 && byte(0) == 0xEF && byte(1) == 0xBB && byte(2) == 0xBF;
  if (bom) p += 3;
  bool ascii_only = false;
  if (end_ - p >= 6 && std::memcmp(p, "<?xml", 5) == 0 && (IsXmlSpace(p[5]) || p[5] == '?')) {
    if (!XmlDeclaration(p, ascii_only) || (bom && ascii_only)) {
      decline_reason_ = "an XML declaration other than version 1.0 in UTF-8 or US-ASCII";
      return Outcome::kDecline;
    }
  }
  if (const std::optional<BadByte> bad = FirstBadByte(data_, ascii_only)) {
    e_ = b_ + bad->offset;
    bad_message_ = bad->message;
  }
  // The prolog: white space, comments and processing instructions before the root.
  p_ = p;
  for (;;) {
    p_ = SkipXmlSpace(p_, e_);
    if (p_ >= e_) return AtLimit(e_, kNoElement), Outcome::kError;
    if (*p_ != '<') return Fail(p_, kInvalidToken), Outcome::kError;
    if (p_ + 1 >= e_) return AtLimit(p_, kUnclosedToken), Outcome::kError;
    const char c = p_[1];
    if (c == '!' && static_cast<std::size_t>(e_ - p_) >= 9 &&
        std::memcmp(p_, "<!DOCTYPE", 9) == 0) {
      decline_reason_ = "a DOCTYPE";
      return Outcome::kDecline;
    }
    bool ok = true;
    if (c == '?') {
      ok = Pi(false);
    } else if (c == '!') {
      if (p_ + 2 < e_ && p_[2] != '-') return Fail(p_ + 2, kInvalidToken), Outcome::kError;
      ok = Markup(false);
    } else {
      break;
    }
    if (!ok) return Outcome::kError;
  }
  // The root element and its content.
  if (!StartTag()) return Outcome::kError;
  if (s_.stopped_) return Outcome::kDone;
  while (!stack_.empty()) {
    if (!Text()) return Outcome::kError;
    const char* lt = p_;
    if (lt + 1 >= e_) return AtLimit(lt, kUnclosedToken), Outcome::kError;
    const char c = lt[1];
    bool ok;
    if (c == '/') {
      ok = EndTag();
    } else if (c == '!') {
      ok = Markup(false);
    } else if (c == '?') {
      ok = Pi(false);
    } else {
      ok = StartTag();
    }
    if (!ok) return Outcome::kError;
    if (s_.stopped_) return Outcome::kDone;
  }
  return Epilog() ? Outcome::kDone : Outcome::kError;
}

struct XmlStream::Trampolines {
  static void Start(void* user, const XML_Char* name, const XML_Char** attrs) {
    auto* s = static_cast<XmlStream*>(user);
    if (s->stopped_) return;
    ++s->depth_;
    s->expat_attrs_.clear();
    for (const char** a = attrs; a != nullptr && a[0] != nullptr; a += 2) {
      s->expat_attrs_.emplace_back(a[0], a[1]);
    }
    s->OnStart(name, XmlAttributes(s->expat_attrs_.data(), s->expat_attrs_.size()), s->depth_);
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
  if (parser_ != nullptr) XML_StopParser(P(parser_), XML_FALSE);
}

Status XmlStream::ErrorHere(std::string_view message) const {
  std::uint64_t line = 0;
  std::uint64_t column = 0;
  if (parser_ != nullptr) {
    line = XML_GetCurrentLineNumber(P(parser_));
    column = XML_GetCurrentColumnNumber(P(parser_)) + 1;
  } else {
    std::tie(line, column) = lines_.At(doc_, static_cast<std::size_t>(event_offset_));
  }
  return PositionError(source_, line, column, message);
}

std::uint64_t XmlStream::ByteOffset() const {
  if (parser_ == nullptr) return event_offset_;
  const XML_Index i = XML_GetCurrentByteIndex(P(parser_));
  return i < 0 ? 0 : static_cast<std::uint64_t>(i);
}

Status XmlStream::Parse(std::string_view data, std::string_view source) {
  source_ = source;
  if (data.empty()) {
    return Status::InvalidArgument(std::string(source) + " is empty (0 bytes): not a scan report");
  }
  if (backend_ != XmlBackend::kExpat) {
    doc_ = data;
    Fast fast(*this, data);
    const Fast::Outcome outcome = fast.Run();
    if (outcome == Fast::Outcome::kDecline && backend_ == XmlBackend::kFast) {
      doc_ = {};
      return Status::FailedPrecondition(std::string(source) + ": " + fast.decline_reason() +
                                        ": left to expat, not read by the fast XML path");
    }
    // A document refused before any event is read again by expat, for expat's own message.
    const bool again =
        outcome == Fast::Outcome::kDecline ||
        (outcome == Fast::Outcome::kError && !fast.emitted() && backend_ == XmlBackend::kAuto);
    if (!again) {
      used_ = XmlBackend::kFast;
      return Finish(outcome == Fast::Outcome::kError ? fast.status() : Status::Ok());
    }
    doc_ = {};
    depth_ = 0;
    text_.clear();
    capturing_ = false;
    capture_next_ = false;
    event_offset_ = 0;
  }
  used_ = XmlBackend::kExpat;
  return ParseWithExpat(data);
}

Status XmlStream::ParseWithExpat(std::string_view data) {
  ExpatParser parser(XML_ParserCreate(nullptr), &XML_ParserFree);
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
                           std::string(kDamaged));
      }
      break;
    }
    offset += n;
  } while (offset < data.size());
  result = Finish(std::move(result));
  parser_ = nullptr;
  return result;
}

Status XmlStream::Finish(Status result) {
  if (result.ok() && stopped_) result = stop_status_;
  if (result.ok()) OnDocumentEnd();
  if (result.ok() && stopped_) result = stop_status_;
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
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');  // ASCII only: no locale call
  }
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
