// A small streaming XML reader for the XML scan formats (Nessus, OpenVAS), plus the text helpers
// they share. Internal to formats/.
//
// XmlStream reads the whole document (in memory) and calls OnStart/OnEnd of a subclass for every
// element. Text is collected only for the elements a handler asks for (CaptureText() in OnStart),
// into one reused buffer. Two backends give the same events:
//
// The in-house tokenizer (the fast path) takes a document when
//   - it is UTF-8: no byte-order mark or the UTF-8 one, and either no XML declaration or one of
//     the form <?xml version="1.0" [encoding="UTF-8"|"US-ASCII", any case]
//     [standalone="yes"|"no"]?>
//     (single or double quotes, white space as XML allows; US-ASCII not after the UTF-8
//     byte-order mark); with US-ASCII declared, any byte above 0x7F is an error, as in expat;
//   - it has no DOCTYPE (no internal subset, so no entity or attribute-default declarations).
// It is a well-formedness checker, not a lenient scanner: it refuses what expat refuses --
// mismatched or unclosed elements, a second root, anything but white space, comments and
// processing instructions after the root, attribute syntax errors ('<' in a value, unquoted or
// duplicate attributes, no white space between attributes), references other than &lt; &gt;
// &amp; &quot; &apos; &#N; &#xN; (the latter to XML characters only), "--" inside a comment,
// "]]>" in text, a misplaced <?xml ...?>, invalid UTF-8, U+FFFE/U+FFFF and control characters
// other than TAB, LF and CR anywhere, and a document that ends inside a tag, comment, CDATA
// section or reference. Names follow expat's rules: ASCII names are checked by table, names with
// other characters by asking expat about that name once. The text handed to handlers is what
// expat gives: references expanded, CR LF and lone CR turned into LF, CDATA content as text;
// attribute values normalised as XML 1.0 section 3.3.3 says for CDATA attributes (each literal
// TAB, LF or CR, after line-end normalisation, becomes a space; a character reference gives its
// character as is). Text no handler captures is only checked, never copied.
//
// Everything else goes to expat, before any event: another encoding (by declaration or a UTF-16
// byte-order mark or zero byte at the start), any other form of XML declaration, a DOCTYPE.
// A document the fast path finds malformed before its first event (in the prolog or the root's
// start tag) is also handed to expat, so its message is exactly expat's.
//
// Errors:
//   - an empty input: "FILE is empty (0 bytes): not a scan report";
//   - malformed or truncated XML: "FILE: line L, column C: <message>; the file is damaged
//     or truncated" (line and column count from 1, the column in characters, as expat does;
//     the message is expat's wording for the same fault, such as "mismatched tag" or
//     "unclosed token", at expat's position; the one known exception is junk after the root
//     element, which the fast path reports where it starts or at the first character expat's
//     prolog tokens do not take, and expat, for rare junk, a few characters further on);
//   - entity declarations (<!ENTITY ...>, expat path only, since the fast path takes no DOCTYPE):
//     refused, since no scanner writes them and they are the vehicle of entity-expansion attacks;
//   - a handler's own error: whatever it passed to Stop(), returned as is.
//
// Thread-safety: one XmlStream per parse; not shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace isms {

// The attributes of a start tag (name, decoded value), in document order; valid only during
// OnStart.
class XmlAttributes {
 public:
  using Attribute = std::pair<std::string_view, std::string_view>;
  XmlAttributes(const Attribute* attrs, std::size_t count) : attrs_(attrs), count_(count) {}
  // The value of attribute `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  std::size_t size() const { return count_; }
  const Attribute& operator[](std::size_t i) const { return attrs_[i]; }

 private:
  const Attribute* attrs_;
  std::size_t count_;
};

// Which tokenizer reads a document: kAuto (the default) takes the fast path where the document
// allows it (see above) and expat otherwise; kExpat always expat; kFast only the fast path, a
// document it does not take being refused (for tests, which compare the two).
enum class XmlBackend { kAuto, kExpat, kFast };

class XmlStream {
 public:
  XmlStream() = default;
  virtual ~XmlStream() = default;
  XmlStream(const XmlStream&) = delete;
  XmlStream& operator=(const XmlStream&) = delete;

  // Parses `data` (the whole document); `source` names the file in errors. Call once.
  Status Parse(std::string_view data, std::string_view source);

  // Chooses the backend; call before Parse.
  void set_backend(XmlBackend backend) { backend_ = backend; }
  // After Parse: the backend that read the document (kExpat or kFast).
  XmlBackend backend_used() const { return used_; }

 protected:
  // `depth` is 1 for the root element.
  virtual void OnStart(std::string_view name, const XmlAttributes& attrs, int depth) = 0;
  virtual void OnEnd(std::string_view name, int depth) = 0;
  // Called once after the document ended without error.
  virtual void OnDocumentEnd() {}

  // From OnStart: collect the text of this element until its next child starts or it ends.
  void CaptureText() { capture_next_ = true; }
  // The text collected since the last tag; in OnStart, the text before that child began.
  const std::string& text() const { return text_; }

  // Stops the parse; Parse() returns `status` (which must not be OK).
  void Stop(Status status);
  bool stopped() const { return stopped_; }
  // "FILE: line L, column C: message": a format error at the current position.
  Status ErrorHere(std::string_view message) const;
  // The byte offset of the current event in the document.
  std::uint64_t ByteOffset() const;
  std::string_view source() const { return source_; }

 private:
  struct Trampolines;
  class Fast;
  void SetCapturing(bool on);
  Status ParseWithExpat(std::string_view data);
  // After either backend: a handler's Stop() status, else OnDocumentEnd() on success.
  Status Finish(Status result);

  void* parser_ = nullptr;
  XmlBackend backend_ = XmlBackend::kAuto;
  XmlBackend used_ = XmlBackend::kAuto;
  // The fast path: the document, and where the current event starts.
  std::string_view doc_;
  std::uint64_t event_offset_ = 0;
  // Line and column of a byte of doc_, counted on from the last one asked for (ErrorHere asked in
  // document order costs one pass over the document in all).
  struct LineCounter {
    std::pair<std::uint64_t, std::uint64_t> At(std::string_view data, std::size_t offset);
    std::size_t offset = 0;
    std::uint64_t line = 1;
    std::uint64_t column = 0;
    bool after_cr = false;
  };
  mutable LineCounter lines_;
  std::vector<XmlAttributes::Attribute> expat_attrs_;
  std::string_view source_;
  std::string text_;
  bool capturing_ = false;
  bool capture_next_ = false;
  bool stopped_ = false;
  int depth_ = 0;
  Status stop_status_;
};

// Text helpers for scan fields.
std::string_view TrimSpace(std::string_view s);
// Trims and turns every run of white space into one space (titles, names).
std::string CollapseSpace(std::string_view s);
// Trims every line, drops blank lines at either end and runs of blank lines beyond one
// (multi-line text such as solutions, indented by the exporter).
std::string TidyLines(std::string_view s);
// Appends `value` to `list` unless already present.
void AppendUnique(std::vector<std::string>& list, std::string value);
// A CVE id in upper case ("CVE-2021-44228"), or "" when `s` is not one.
std::string NormalizeCve(std::string_view s);
// "CWE-79" from "79", "CWE-79" or "cwe-79"; "" when `s` is neither.
std::string NormalizeCwe(std::string_view s);
// The asset name kind of a host identifier as written by a scanner: "ip" (IPv4 or IPv6),
// "mac", "fqdn" (has a dot) or "host".
std::string_view HostNameKind(std::string_view s);

}  // namespace isms
