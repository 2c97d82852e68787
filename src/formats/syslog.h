// Syslog messages (RFC 5424, RFC 3164 / BSD and its common variants) as audit records
// (formats/audit_record.h). Parsing rules, variants and the fallback: docs/audit-format.md.
//
// ParseSyslogMessage never fails and never drops input: a message that is neither RFC 5424 nor
// a recognisable BSD line becomes a record of source kUnparsed whose message is the input,
// verbatim, byte for byte. Bytes are never re-encoded: invalid UTF-8 is kept as received.
//
// RFC 3164 timestamps carry neither a year nor a zone:
//   - the year is the one (of the receive year and its neighbours) that puts the timestamp
//     closest to the receive time, so "Dec 31 23:59:59" received on 1 January is last year's
//     (flag kAuditYearInferred);
//   - the zone is SyslogOptions::bsd_zone: UTC unless told otherwise (flag kAuditZoneAssumed).
// The RFC 3339 timestamps some senders write in 3164 lines (rsyslog's high-precision format)
// carry both and are used as written.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "formats/audit_record.h"

namespace isms {

struct SyslogOptions {
  // When the message was received: the time of a message without one, and the reference for a
  // 3164 timestamp's year.
  Instant received{};

  // The zone of 3164 timestamps without one.
  enum class BsdZone {
    kUtc,           // default
    kFixedOffset,   // local = UTC + bsd_offset
    kEuropeLondon,  // the UK rule (core/calendar.h); a repeated autumn hour is read as BST
  };
  BsdZone bsd_zone = BsdZone::kUtc;
  std::chrono::minutes bsd_offset{0};
};

// Parses one message (one frame, without framing): RFC 5424 when it starts "<PRI>1 ", else
// RFC 3164 / BSD, else unparsed. Trailing CR, LF and NUL bytes are not part of a parsed message.
AuditRecord ParseSyslogMessage(std::string_view message, const SyslogOptions& options);
// The same into `r`, which may hold an earlier record: every field is replaced, and the memory of
// its strings and lists is used again (a listener parses every message into one record).
void ParseSyslogMessageInto(std::string_view message, const SyslogOptions& options,
                            AuditRecord& r);
// The same as a view: its strings refer to `message` (which must outlive it), none is copied.
void ParseSyslogMessageInto(std::string_view message, const SyslogOptions& options,
                            AuditRecordView& r);

// The strict parsers behind it, for tests and tools. kInvalidArgument naming the byte offset and
// the problem when `message` is not of that form.
Result<AuditRecord> ParseRfc5424(std::string_view message, const SyslogOptions& options);
Result<AuditRecord> ParseRfc3164(std::string_view message, const SyslogOptions& options);

// The record kept for input that could not be parsed: source kUnparsed, flag kAuditUnparsed,
// time = received, message = `bytes` verbatim.
AuditRecord UnparsedAuditRecord(std::string_view bytes, Instant received);

}  // namespace isms
