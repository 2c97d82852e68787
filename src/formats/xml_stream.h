// A small streaming reader over expat for the XML scan formats (Nessus, OpenVAS), plus the text
// helpers they share. Internal to formats/.
//
// XmlStream feeds the document to expat in 1 MiB slices, so memory stays bounded whatever the
// file's size, and calls OnStart/OnEnd of a subclass for every element. Text is collected only
// for the elements a handler asks for (CaptureText() in OnStart), into one reused buffer.
//
// Errors:
//   - an empty input: "FILE is empty (0 bytes): not a scan report";
//   - malformed or truncated XML: "FILE: line L, column C: <expat message>; the file is damaged
//     or truncated" (line and column count from 1);
//   - entity declarations (<!ENTITY ...>): refused, since no scanner writes them and they are
//     the vehicle of entity-expansion attacks;
//   - a handler's own error: whatever it passed to Stop(), returned as is.
//
// Thread-safety: one XmlStream per parse; not shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace isms {

// The attributes of a start tag, valid only during OnStart.
class XmlAttributes {
 public:
  explicit XmlAttributes(const char** attrs) : attrs_(attrs) {}
  // The value of attribute `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;

 private:
  const char** attrs_;
};

class XmlStream {
 public:
  XmlStream() = default;
  virtual ~XmlStream() = default;
  XmlStream(const XmlStream&) = delete;
  XmlStream& operator=(const XmlStream&) = delete;

  // Parses `data` (the whole document); `source` names the file in errors. Call once.
  Status Parse(std::string_view data, std::string_view source);

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
  void SetCapturing(bool on);

  void* parser_ = nullptr;
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
