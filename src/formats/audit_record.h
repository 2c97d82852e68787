// Audit records (Annex 1 paragraphs 7–8 of the security schedule) as domain records, and their
// canonical encoding: the exact bytes hashed into the audit Merkle log as a leaf.
// Format, byte by byte, and the categories: docs/audit-format.md.
//
// A record is made by the syslog parser (formats/syslog.h), the JSON-lines parser
// (formats/audit_jsonl.h) and classified by formats/audit_classify.h. The message is kept as the
// sender's bytes (possibly invalid UTF-8); nothing here validates or re-encodes text.
//
// Erasure: the store keeps each record's leaf hash beside its encoded content, so the content of
// a record can be erased later (a data-subject request, retention) while its leaf hash — and so
// every inclusion and consistency proof of the tree — stays valid.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace isms {

// What a record is evidence of (Annex 1 paragraph 8.1).
enum class AuditCategory {
  kOther,               // collected, not one of the kinds below
  kOutboundRequest,     // 8.1.1: an asset's request leaving the estate (proxy, firewall, router)
  kDhcpLease,           // 8.1.1: which asset held an IP address (DHCP servers)
  kPrivilegedLogon,     // 8.1.2: privileged account log-on (sudo, su)
  kPrivilegedLogoff,    // 8.1.2: privileged account log-off
  kRemoteSessionStart,  // 8.1.2: start of a remote access session (ssh, VPN)
  kRemoteSessionEnd,    // 8.1.2: end of a remote access session
  kSecurityAlert,       // 8.1.2: operating-system and security-software alerts
};
// "other", "outbound-request", "dhcp-lease", "privileged-logon", "privileged-logoff",
// "remote-session-start", "remote-session-end", "security-alert".
std::string_view AuditCategoryKey(AuditCategory c);
// The category of a key above; kInvalidArgument listing the keys otherwise.
Result<AuditCategory> ParseAuditCategoryKey(std::string_view key);

// How the record was read.
enum class AuditSource : std::uint8_t {
  kSyslog5424 = 1,  // RFC 5424
  kSyslog3164 = 2,  // RFC 3164 / BSD and its common variants
  kUnparsed = 3,    // not understood: `message` holds the received bytes verbatim
  kJsonLines = 4,   // one line of JSON lines (docs/audit-format.md)
};
std::string_view AuditSourceKey(AuditSource s);  // "rfc5424", "rfc3164", "unparsed", "jsonl"

// Bits of AuditRecord::flags.
enum AuditFlag : std::uint8_t {
  kAuditUnparsed = 1,         // same as source kUnparsed: message is the verbatim input
  kAuditTruncated = 2,        // the frame was longer than the framing limit; the rest is dropped
  kAuditTimeFromReceipt = 4,  // the message carried no usable time: `time` is `received`
  kAuditYearInferred = 8,     // RFC 3164: the year was inferred from the receive time
  kAuditZoneAssumed = 16,     // RFC 3164: no zone in the message; the configured zone applied
  kAuditUtf8Bom = 32,         // RFC 5424: MSG began with a BOM (removed): it declares UTF-8
  kAuditIncomplete = 64,      // the stream ended inside this frame
};

// One SD-ELEMENT of an RFC 5424 message: its SD-ID and its parameters, in message order
// (values unescaped).
struct SdElement {
  std::string id;
  std::vector<std::pair<std::string, std::string>> params;
  friend bool operator==(const SdElement&, const SdElement&) = default;
};

// A record, with its strings of type Text. AuditRecord owns them. AuditRecordView refers to
// others' bytes: those of the message it was parsed from and of the classifier's rules (the
// constants and names it sets), which must outlive it. A listener parses and classifies each
// message as a view and copies its bytes once, into the canonical encoding; the same code makes
// both (tests: every field of a view equals the owned record's).
template <typename Text>
struct BasicAuditRecord {
  Instant time{};      // when it happened (UTC), from the message; `received` when it had none
  Instant received{};  // when isms received it
  AuditSource source = AuditSource::kUnparsed;
  std::uint8_t flags = 0;  // AuditFlag bits
  int facility = -1;       // 0–23 from PRI; -1 when there was no PRI
  int severity = -1;       // 0–7 from PRI; -1 when there was no PRI

  Text host;     // the sender's host name or address as it wrote it
  Text app;      // RFC 5424 APP-NAME, RFC 3164 TAG, JSON `app`
  Text procid;   // RFC 5424 PROCID, the [pid] of a 3164 TAG
  Text msgid;    // RFC 5424 MSGID
  Text message;  // the text; the whole input when unparsed

  // Classification (formats/audit_classify.h); empty until classified.
  AuditCategory category = AuditCategory::kOther;
  Text rule;      // the rule that decided the category; "sender" when the sender said so
  Text user;      // the person or account acting
  Text src_ip;    // the asset concerned: address, host name, MAC
  Text src_host;  //
  Text src_mac;   //
  Text dest;      // where a request went: URL, host, address
  Text session;   // what ties a session's start to its end

  // RFC 5424 STRUCTURED-DATA, in message order; owned by views too (its values are unescaped).
  std::vector<SdElement> structured_data;
  // Other named values (JSON fields, rule captures): unique keys. Kept in any order here; the
  // encoding sorts them by key.
  std::vector<std::pair<Text, Text>> extra;

  // The value of an extra field, or "" when there is none.
  std::string_view Extra(std::string_view key) const {
    for (const auto& [k, v] : extra) {
      if (k == key) return v;
    }
    return {};
  }
  // Sets an extra field (replacing an existing value of that key).
  void SetExtra(std::string_view key,
                std::string value) requires std::is_same_v<Text, std::string> {
    for (auto& [k, v] : extra) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    extra.emplace_back(std::string(key), std::move(value));
  }

  friend bool operator==(const BasicAuditRecord&, const BasicAuditRecord&) = default;
};
using AuditRecord = BasicAuditRecord<std::string>;
using AuditRecordView = BasicAuditRecord<std::string_view>;

// The record `v` stands for, owning copies of its bytes.
AuditRecord ToAuditRecord(const AuditRecordView& v);

// The canonical encoding version written by EncodeAuditRecord. Version 2 prefixes strings and
// counts with varints and writes the category as one byte: the benchmark's syslog records
// encode in about a quarter fewer bytes (237 on average instead of 317), hashed as 4 or 5
// SHA-256 blocks instead of 5 or 6. Version 1 (fixed 4-byte lengths, the category's key) is
// still read, and written when asked: leaves are never re-encoded, so a log may hold both.
inline constexpr std::uint8_t kAuditRecordEncodingVersion = 2;

// The canonical bytes of `r` (docs/audit-format.md): the version byte, fixed-width big-endian
// integers, length-prefixed byte strings in a fixed order, extra fields sorted by key.
// Deterministic: equal records encode to equal bytes. kInvalidArgument when `r` cannot be encoded
// canonically: duplicate extra keys, facility/severity out of range, a field of 4 GiB or more, a
// version other than 1 or 2.
Result<std::string> EncodeAuditRecord(const AuditRecord& r,
                                      std::uint8_t version = kAuditRecordEncodingVersion);
// The same into `out` (replacing its content; its memory is used again). On error `out` is
// left unspecified.
Status EncodeAuditRecordInto(const AuditRecord& r, std::string& out,
                             std::uint8_t version = kAuditRecordEncodingVersion);
Status EncodeAuditRecordInto(const AuditRecordView& r, std::string& out,
                             std::uint8_t version = kAuditRecordEncodingVersion);

// The record of canonical bytes. Strict: kCorruption (naming the byte offset) for an unknown
// version, a truncated field, an unknown category or source, extra keys not strictly sorted, or
// trailing bytes; so DecodeAuditRecord(b) succeeds only when EncodeAuditRecord of its result is b.
Result<AuditRecord> DecodeAuditRecord(std::string_view bytes);

// The category of canonical bytes without decoding the rest (a fixed position in both versions),
// as its number (static_cast<int>(AuditCategory)), or -1 when the bytes are too short or of an
// unknown version or category. For scans that decode only one category's records, and for the
// writer of isms serve, which reads each record's category as it stages it; DecodeAuditRecord
// checks the whole record. A number in a register, not an optional: GCC built the optional on
// the stack and read it back whole, and that read waited for every store before it (a staged
// record's copy into its host's block) to reach the cache.
int PeekAuditCategoryNumber(std::string_view bytes);
inline std::optional<AuditCategory> PeekAuditCategory(std::string_view bytes) {
  const int c = PeekAuditCategoryNumber(bytes);
  if (c < 0) return std::nullopt;
  return static_cast<AuditCategory>(c);
}

// The fields a record is indexed by, read from canonical bytes without decoding the rest: views
// into `bytes`. Nothing when the bytes are too short or of an unknown version or category.
struct AuditRecordKeys {
  Instant time{};
  AuditCategory category = AuditCategory::kOther;
  std::string_view host, user, src_ip;
};
std::optional<AuditRecordKeys> PeekAuditKeys(std::string_view bytes);

}  // namespace isms
