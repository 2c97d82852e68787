// Audit records as JSON lines: one JSON object per line (schema: docs/audit-format.md).
//
//   {"time":"2026-03-01T09:15:02Z","host":"web-01","app":"sshd","user":"alice",
//    "message":"Accepted publickey for alice from 10.0.0.9 port 51234 ssh2","pid":4242}
//
// Fields: `time` (RFC 3339, required), `host` (required, non-empty), `message` (required),
// `app`, `user`, `category` (a key of AuditCategory: the sender's classification, kept with
// rule "sender"), `src_ip`, `src_host`, `src_mac`, `dest`, `session` (all optional strings; null
// is absent). Every other field is kept as an extra field: strings as they are, other values as
// compact JSON. Duplicate keys are refused. Empty and blank lines are skipped; a UTF-8 BOM before
// the first line and a CR before each LF are ignored.
//
// Errors (kInvalidArgument): "SOURCE:LINE:COLUMN: problem; fix", LINE and COLUMN 1-based, COLUMN
// a byte offset in the line (the value of a wrong field, or where JSON syntax broke).
//
// Two policies for a bad line:
//   - a bulk file (ParseAuditJsonLines) is one transaction: the first bad line refuses the whole
//     file, naming the line; the caller rolls back what the sink wrote;
//   - a live stream (a listener) must not drop data: AuditJsonLineOrUnparsed keeps a bad line
//     verbatim as an unparsed record (formats/syslog.h UnparsedAuditRecord).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "formats/audit_record.h"

namespace isms {

// Parses one line (without its LF). `source` and `line_no` name it in errors.
Result<AuditRecord> ParseAuditJsonLine(std::string_view line, Instant received,
                                       std::string_view source = "<line>", size_t line_no = 1);

// Parses every line of `data` in order and passes each record to `sink`. Stops at the first bad
// line or sink error and returns it (a sink error as is); records already passed belong to the
// refused file and must be discarded by the caller.
Status ParseAuditJsonLines(std::string_view data, std::string_view source, Instant received,
                           const std::function<Status(AuditRecord&&)>& sink);

// One line of a live stream: its record, or, when it is not valid, the line kept verbatim as an
// unparsed record.
AuditRecord AuditJsonLineOrUnparsed(std::string_view line, Instant received);

}  // namespace isms
