// multipart/form-data bodies (RFC 7578): file uploads from the web forms and the API.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace isms::net {

struct MultipartPart {
  std::string name;          // the form field
  std::string filename;      // "" when not a file
  std::string content_type;  // "" when not given
  std::string_view data;     // into the body passed to ParseMultipart
};

// The boundary parameter of a multipart/form-data Content-Type; nullopt when the type is not
// multipart/form-data or has no boundary.
std::optional<std::string> MultipartBoundary(std::string_view content_type);

// The parts of `body`; InvalidArgument naming the byte offset where the body stops making
// sense (no opening boundary, a part without headers' end, no closing boundary).
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view boundary,
                                                  std::string_view body);

// The value of an HTTP header parameter ("boundary", "name", "filename") in a header value such
// as `form-data; name="file"; filename="a.nessus"`; nullopt when absent.
std::optional<std::string> HeaderParam(std::string_view value, std::string_view param);

}  // namespace isms::net
