// Shared machinery of the JSON scan parsers (Trivy, Grype, OSV-Scanner, CycloneDX, SARIF):
// a streaming reader over simdjson's On-Demand API that names the file, the byte offset and
// the JSON path in its errors, and small helpers that fill RawFinding fields.
//
// Why On-Demand: reports can be hundreds of MB. On-Demand parses straight from the input
// (one padded copy at most), builds no tree, and knows the byte position of every value, so
// findings carry their offset and syntax errors name the byte. Parsers read in one forward
// pass; where a report puts what they need first after the findings (Grype's `source`,
// CycloneDX `components`), they read it in a first pass and rewind (the structural index is
// not rebuilt). Values a parser never reads are checked for structure only.
//
// Errors:
//   "FILE: byte N: <simdjson message>; the file is damaged or truncated"
//   "FILE: $.Results[3].Vulnerabilities: expected an array"
//   "FILE is UTF-16: save it as UTF-8"
//
// Thread-safety: a JsonReader is used by one thread.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ascii.h"
#include "core/status.h"
#include "core/time.h"
#include "formats/scan.h"

namespace isms::json {

namespace od = simdjson::ondemand;

// Where a value sits in the document, for messages: "$.Results[3].Vulnerabilities". Built on
// the stack as the parser descends; nothing is allocated until an error is formatted.
class Path {
 public:
  Path() = default;
  Path Key(std::string_view key) const { return Path(this, key, kNoIndex); }
  Path Index(std::size_t index) const { return Path(this, {}, index); }
  std::string ToString() const;

 private:
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  Path(const Path* parent, std::string_view key, std::size_t index)
      : parent_(parent), key_(key), index_(index) {}
  const Path* parent_ = nullptr;
  std::string_view key_;
  std::size_t index_ = kNoIndex;
};

// Owns the parser, the padded input and the document of one parse.
class JsonReader {
 public:
  // Checks the encoding (a UTF-8 byte-order mark is skipped; UTF-16/32 are refused), refuses
  // an empty file and starts iterating. `data` must outlive the reader.
  Status Open(std::string_view data, std::string_view source);

  od::document& doc() { return doc_; }
  std::string_view source() const { return source_; }

  // Starts the document again from its first byte (for a second pass).
  Status Rewind();

  // Byte offset in the original data of a token returned by simdjson (raw_json_token()).
  std::uint64_t OffsetOf(const char* p) const;
  std::uint64_t OffsetOf(od::value& v);

  // "FILE: byte N: <error>; the file is damaged or truncated", N where the iterator stopped.
  Status SyntaxError(simdjson::error_code e);
  // "FILE: $.path: expected an array" (for INCORRECT_TYPE), else SyntaxError(e).
  Status Error(simdjson::error_code e, const Path& path, std::string_view expected);
  // "FILE: $.path: message".
  Status Invalid(const Path& path, std::string_view message) const;

  // Typed access with the path in the error. Null counts as absent for the Opt* forms.
  Status Object(od::value& v, const Path& path, od::object& out);
  Status Array(od::value& v, const Path& path, od::array& out);
  Status OptObject(od::value& v, const Path& path, std::optional<od::object>& out);
  Status OptArray(od::value& v, const Path& path, std::optional<od::array>& out);
  // A string; null gives ""; a number or boolean gives its JSON text; arrays and objects are an
  // error. The view lives as long as the reader.
  Status String(od::value& v, const Path& path, std::string_view& out);
  // A string copied into `out` (assign, so its capacity is reused).
  Status StringTo(od::value& v, const Path& path, std::string& out);
  // An integer, also from a string of digits; absent (nullopt) for null or other text.
  Status OptInt(od::value& v, const Path& path, std::optional<std::int64_t>& out);
  // True when the value is null (consumes it).
  bool IsNull(od::value& v);

  // Verifies that nothing but white space follows the root value.
  Status CheckEnd();

 private:
  std::string source_;
  const char* base_ = nullptr;  // the JSON text iterated (the input or its padded copy)
  std::size_t size_ = 0;
  std::uint64_t skipped_ = 0;  // bytes of a UTF-8 byte-order mark before base_
  simdjson::padded_string copy_;
  od::parser parser_;
  od::document doc_;
};

// Iterates the fields of an object: `body(key, value)` returns a Status.
template <typename Body>
Status ForEachField(JsonReader& r, od::object& obj, const Path& path, Body&& body) {
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return r.Error(e, path, "an object");
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return r.SyntaxError(e);
    od::value value = field.value();
    ISMS_RETURN_IF_ERROR(body(key, value));
  }
  return Status::Ok();
}

// Iterates the elements of an array: `body(index, value)` returns a Status.
template <typename Body>
Status ForEachElement(JsonReader& r, od::array& arr, const Path& path, Body&& body) {
  std::size_t index = 0;
  for (auto element_result : arr) {
    od::value value;
    if (auto e = std::move(element_result).get(value)) return r.Error(e, path, "an array");
    ISMS_RETURN_IF_ERROR(body(index, value));
    ++index;
  }
  return Status::Ok();
}

// Calls `body(index, value)` for each element of the array at `v`; null or absent is empty.
template <typename Body>
Status ForEachInOptArray(JsonReader& r, od::value& v, const Path& path, Body&& body) {
  std::optional<od::array> arr;
  ISMS_RETURN_IF_ERROR(r.OptArray(v, path, arr));
  if (!arr) return Status::Ok();
  return ForEachElement(r, *arr, path, [&](std::size_t i, od::value& e) { return body(i, e); });
}

// Calls `body(key, value)` for each field of the object at `v`; null is empty.
template <typename Body>
Status ForEachInOptObject(JsonReader& r, od::value& v, const Path& path, Body&& body) {
  std::optional<od::object> obj;
  ISMS_RETURN_IF_ERROR(r.OptObject(v, path, obj));
  if (!obj) return Status::Ok();
  return ForEachField(r, *obj, path, body);
}

// Finding helpers.
bool IsCve(std::string_view id);
// Adds a CVE id (upper-cased) unless present.
void AddCve(RawFinding& f, std::string_view id);
// Adds a CVE id to cves, any other non-empty id to aliases, skipping `f.check_id` in aliases.
void AddId(RawFinding& f, std::string_view id);
// Adds "CWE-N" from "CWE-N", "cwe-n" or "N"; ignores anything else.
void AddCwe(RawFinding& f, std::string_view cwe);
void AddCvss(RawFinding& f, std::string_view vector, std::string_view source, bool nvd);
void AddSeverity(RawFinding& f, std::string_view issuer, std::string_view value);
// The date part of an RFC 3339 instant or a plain date; nullopt when it is neither.
std::optional<Date> DateOf(std::string_view text);
std::optional<Instant> InstantOf(std::string_view text);
// Appends "name version" (either may be empty).
std::string Component(std::string_view name, std::string_view version);

}  // namespace isms::json
