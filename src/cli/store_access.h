// Opening the store for a command, and who the command acts as.
#pragma once

#include <memory>
#include <string>

#include "app/ledger.h"
#include "cli/commands.h"

namespace isms::app {
class AuditService;
}  // namespace isms::app

namespace isms::cli {

// The actor of a command-line call: the operating-system user, never free text.
app::Actor OsActor();

// The ledger on the store named by --store, $ISMS_STORE, or the default.
Result<std::unique_ptr<app::Ledger>> OpenLedger(Context& ctx, const StoreOptions& o);
// The audit service (the ledger and the audit store) on that store; `key_dir` as --key-dir
// ("": $ISMS_KEY_DIR, else beside the SQLite file).
Result<std::unique_ptr<app::AuditService>> OpenAuditService(Context& ctx, const StoreOptions& o,
                                                            const std::string& key_dir = "");

// Seals the events recorded since into the contract's ledger log (app::AuditService::
// SyncLedgerLog); a failure is reported on the error stream, never fatal: the event stands.
void SealLedger(Context& ctx, const StoreOptions& store, const std::string& contract);

// An --at value: a date (the start of that London day, or its end with `end_of_day`) or an
// RFC 3339 instant.
Result<Instant> ParseAt(const std::string& text, bool end_of_day);

}  // namespace isms::cli
