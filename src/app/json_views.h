// The JSON shapes that the command line's --json and the HTTPS API share (docs/api.md): one
// definition each, so that both print the same fields in the same order.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "app/audit.h"
#include "app/ledger.h"
#include "app/vulns.h"
#include "audit/note.h"
#include "core/obligation.h"

namespace isms::app {

// An event as `isms event list --json` prints it.
nlohmann::ordered_json EventJson(const Event& e, bool backdated);

// An obligation as `isms status --json` prints it.
nlohmann::ordered_json ObligationJson(const Obligation& o);

// One row of `isms status --summary --json`.
nlohmann::ordered_json StatusCountJson(const StatusCount& n);

// A finding with the fields of `vuln list --json`; `full` adds those of `vuln show --json` and
// the finding's obligations.
nlohmann::ordered_json FindingJson(const FindingView& v, bool full);

// A DHCP lease as `isms audit leases --json` prints it.
nlohmann::ordered_json LeaseJson(const audit::Lease& l);

// An audit record as `isms audit search --json` prints it (an erased one keeps its leaf, time,
// host and leaf hash).
nlohmann::ordered_json AuditRecordJson(const AuditHit& h);

// `isms audit prove`: against the signed checkpoint of `size` (default the latest), an inclusion
// proof of leaf `index` and/or a consistency proof from the checkpoint of `from_size`.
Result<nlohmann::ordered_json> AuditProofJson(AuditService& audit, const std::string& contract,
                                              std::optional<std::uint64_t> index,
                                              std::optional<std::uint64_t> from_size,
                                              std::optional<std::uint64_t> size);

// `isms audit verify-proof`: checks a document of AuditProofJson's shape (`text`, as a buyer
// received it) with the log's public key: its checkpoint's signature, then its inclusion proof
// and its consistency proof (from a second signed checkpoint), each when present. Never trusts
// the document: any bytes give an answer.
struct AuditProofCheck {
  std::vector<std::string> proved;  // "OK: ..." for each thing proved, in that order
  // The first thing that does not hold (InvalidArgument for a document of another shape,
  // PermissionDenied for a checkpoint the key did not sign, Corruption for a proof that does
  // not lead to its checkpoint's root); the checks after it are not made. Ok when everything in
  // the document was proved.
  Status status;
};
AuditProofCheck VerifyAuditProofJson(std::string_view text, const audit::NoteVerifier& verifier);
// As above, each checkpoint signed by any of `keys` (a log's key and the keys it replaced; at
// least one).
AuditProofCheck VerifyAuditProofJson(std::string_view text,
                                     std::span<const audit::NoteVerifier> keys);

// `isms audit export`: the first line of a CSV export ("" for JSON lines), and one record as a
// line of the format ("jsonl" or "csv"), with its line end.
std::string AuditExportHeader(std::string_view format);
std::string AuditExportLine(const AuditHit& h, std::string_view format);

// A CSV cell, quoted, with a leading ' when CsvLooksLikeAFormula (app/report.h) so that
// spreadsheets do not read it as a formula.
std::string CsvCell(std::string_view v);

}  // namespace isms::app
