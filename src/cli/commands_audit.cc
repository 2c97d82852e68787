#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "app/access.h"
#include "app/audit.h"
#include "app/json_views.h"
#include "audit/checkpoint.h"
#include "cli/commands.h"
#include "cli/store_access.h"

namespace isms::cli {
namespace {

using nlohmann::ordered_json;

std::string Dump(const ordered_json& j, int indent = -1) {
  return j.dump(indent, ' ', false, ordered_json::error_handler_t::replace);
}

Result<std::unique_ptr<app::AuditService>> OpenAudit(Context& ctx, const AuditCommonOptions& o) {
  return OpenAuditService(ctx, o.store, o.key_dir);
}

void NoteCreatedKey(Context& ctx, app::AuditService& s) {
  if (!s.created_key()) return;
  ctx.err << "isms: created the audit signing key " << s.created_key()->private_path
          << " (mode 0600); give the buyer " << s.created_key()->public_path << "\n";
}

Result<std::string> ReadInput(Context& ctx, const std::string& file) {
  if (file == "-") {
    return std::string(std::istreambuf_iterator<char>(ctx.in), std::istreambuf_iterator<char>());
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::IoError(file + ": cannot open for reading");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// --from (start of a London date, or an instant) and --to (end of a London date, or an instant:
// exclusive).
Status ParseRange(const std::string& from, const std::string& to, std::optional<Instant>& f,
                  std::optional<Instant>& t) {
  if (!from.empty()) {
    ISMS_ASSIGN_OR_RETURN(Instant v, ParseAt(from, false));
    f = v;
  }
  if (!to.empty()) {
    ISMS_ASSIGN_OR_RETURN(Instant v, ParseAt(to, true));
    t = to.size() == 10 ? v + std::chrono::milliseconds(1) : v;
  }
  return Status::Ok();
}

// "10.0.0.5 held by laptop-042 (aa:bb:cc:dd:ee:ff) from T to T, DHCP record leaf N"
std::string LeaseText(const audit::Lease& l) {
  std::string holder = l.host.empty() ? l.mac : l.host;
  if (!l.host.empty() && !l.mac.empty()) holder += " (" + l.mac + ")";
  return l.ip + " held by " + holder + " from " + FormatInstant(l.from) + " to " +
         FormatInstant(l.to) + ", DHCP record leaf " + std::to_string(l.first_leaf);
}

}  // namespace

void AuditIngest(Context& ctx, const AuditIngestOptions& o) {
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<std::string> data = ReadInput(ctx, o.file);
  if (!data.ok()) return ctx.Fail(data.status());
  app::AuditIngestRequest r;
  r.contract = o.common.contract;
  r.data = std::move(*data);
  r.source = o.file == "-" ? "<stdin>" : o.file;
  r.format = o.format;
  if (r.format.empty()) {
    r.format = (o.file.ends_with(".jsonl") || o.file.ends_with(".json")) ? "jsonl" : "syslog";
  }
  auto start = std::chrono::steady_clock::now();
  Result<app::AuditIngestResult> res = (*s)->Ingest(r);
  NoteCreatedKey(ctx, **s);
  if (!res.ok()) return ctx.Fail(res.status().WithContext("nothing was ingested"));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ctx.out << "ingested " << res->records << " records into " << o.common.contract;
  if (res->records > 0) {
    ctx.out << " (leaves " << res->first_leaf << "-" << res->size - 1 << ")";
  }
  ctx.out << "\ncategories:";
  for (const auto& [k, n] : res->categories) ctx.out << " " << k << "=" << n;
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.0f", secs > 0 ? static_cast<double>(res->records) / secs : 0);
  ctx.out << "\nrate: " << rate << " records/s\nlog size " << res->size << ", checkpoint signed\n";
}

void AuditSearch(Context& ctx, const AuditSearchOptions& o) {
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  app::AuditSearchRequest r;
  r.contract = o.common.contract;
  if (Status st = ParseRange(o.from, o.to, r.from, r.to); !st.ok()) return ctx.Fail(st);
  if (!o.host.empty()) r.host = o.host;
  if (!o.user.empty()) r.user = o.user;
  if (!o.category.empty()) r.category = o.category;
  if (!o.text.empty()) r.text = o.text;
  if (o.limit) r.limit = *o.limit;
  std::int64_t n = 0;
  ordered_json arr = ordered_json::array();
  Status st = (*s)->Search(r, [&](app::AuditHit&& h) -> Result<bool> {
    ++n;
    if (o.count) return true;
    if (o.json) {
      arr.push_back(app::AuditRecordJson(h));
    } else if (h.erased) {
      ctx.out << h.leaf << "\t" << FormatInstant(h.record.time) << "\t" << h.record.host
              << "\t\terased\t\t[content erased; leaf hash " << audit::HashHex(h.leaf_hash)
              << "]\n";
    } else {
      ctx.out << h.leaf << "\t" << FormatInstant(h.record.time) << "\t" << h.record.host << "\t"
              << h.record.app << "\t" << AuditCategoryKey(h.record.category) << "\t"
              << h.record.user << "\t" << h.record.message;
      if (h.via_lease) ctx.out << "\tvia lease: " << LeaseText(*h.via_lease);
      ctx.out << "\n";
    }
    return true;
  });
  if (!st.ok()) return ctx.Fail(st);
  if (o.count) {
    ctx.out << n << "\n";
  } else if (o.json) {
    ctx.out << Dump(arr, 2) << "\n";
  }
}

void AuditVerify(Context& ctx, const AuditVerifyOptions& o) {
  if (o.log != "audit" && o.log != "ledger") {
    return ctx.Fail(Status::InvalidArgument("--log '" + o.log + "': use audit or ledger"));
  }
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  const auto digest_note = [&](std::uint64_t rows) {
    if (rows == 0) return;
    ctx.out << "note: " << rows
            << " blocks and tail batches were written before rows kept the SHA-256 of their "
               "bytes: they are checked through the records they hold only; `isms audit upgrade` "
               "stores it\n";
  };
  if (o.log == "ledger") {
    if (!o.against.empty()) {
      return ctx.Fail(Status::InvalidArgument("--against applies to the audit log"));
    }
    Result<app::AuditService::LedgerVerifyReport> rep = (*s)->VerifyLedger(o.common.contract);
    if (!rep.ok()) return ctx.Fail(rep.status());
    if (!rep->log.problems.empty()) {
      for (const std::string& p : rep->log.problems) ctx.out << "BAD: " << p << "\n";
      return ctx.Fail(Status::Corruption("the ledger of " + o.common.contract +
                                         " does not verify: " + rep->log.problems.front()));
    }
    ctx.out << "OK: " << rep->log.size << " of " << rep->events
            << " events sealed in the ledger log and unchanged, " << rep->log.checkpoints
            << " checkpoints; root " << audit::HashHex(rep->log.root) << "\n";
    if (rep->lagging > 0) {
      ctx.out << "note: " << rep->lagging
              << " newer events are not sealed yet; the next `isms event record` seals them\n";
    }
    digest_note(rep->log.rows_without_digest);
    return;
  }
  std::optional<std::string> against;
  if (!o.against.empty()) {
    Result<std::string> text = ReadInput(ctx, o.against);
    if (!text.ok()) return ctx.Fail(text.status());
    against = *text;
  }
  Result<audit::VerifyReport> rep = (*s)->Verify(o.common.contract, against);
  if (!rep.ok()) return ctx.Fail(rep.status());
  if (!rep->problems.empty()) {
    for (const std::string& p : rep->problems) ctx.out << "BAD: " << p << "\n";
    return ctx.Fail(Status::Corruption("the audit log of " + o.common.contract +
                                       " does not verify: " + rep->problems.front()));
  }
  ctx.out << "OK: " << rep->size << " records, " << rep->chunks << " chunks checked, "
          << rep->purged_chunks << " purged chunks (hashes kept), " << rep->tail_batches
          << " tail batches, " << rep->checkpoints << " checkpoints; root "
          << audit::HashHex(rep->root) << "\n";
  ctx.out << "OK: lease index: " << rep->leases << " leases, as the log's DHCP records give them";
  if (rep->leases_taken_as_stored > 0) {
    ctx.out << " (" << rep->leases_taken_as_stored
            << " begun by purged records taken as stored)";
  }
  ctx.out << "\n";
  if (rep->leases_unchecked > 0) {
    ctx.out << "note: " << rep->leases_unchecked
            << " leases differ from the rebuild near erased records, whose part cannot be "
               "rebuilt; not counted as findings\n";
  }
  if (rep->blocks_without_kinds > 0) {
    ctx.out << "note: " << rep->blocks_without_kinds
            << " blocks were written before blocks kept their records' kinds: searches by "
               "category and erasures of DHCP records read them all; `isms audit upgrade` "
               "stores their kinds\n";
  }
  digest_note(rep->rows_without_digest);
  if (against) ctx.out << "OK: the log extends the checkpoint in " << o.against << "\n";
}

void AuditCheckpoint(Context& ctx, const AuditCommonOptions& o) {
  auto s = OpenAudit(ctx, o);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<std::string> note = (*s)->LatestCheckpoint(o.contract);
  if (!note.ok()) return ctx.Fail(note.status());
  ctx.out << *note;
}

void AuditProve(Context& ctx, const AuditProveOptions& o) {
  if (!o.index && !o.from_size) {
    return ctx.Fail(Status::InvalidArgument("prove needs --index I, --from-size M, or both"));
  }
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<ordered_json> j =
      app::AuditProofJson(**s, o.common.contract, o.index, o.from_size, o.size);
  if (!j.ok()) return ctx.Fail(j.status());
  ctx.out << Dump(*j, 2) << "\n";
}

namespace {

// A verifier key file (as audit-checkpoint.pub holds it).
Result<audit::NoteVerifier> ReadVerifierKey(Context& ctx, const std::string& path) {
  Result<std::string> key = ReadInput(ctx, path);
  if (!key.ok()) return key.status();
  std::string k = *key;
  while (!k.empty() && (k.back() == '\n' || k.back() == '\r')) k.pop_back();
  Result<audit::NoteVerifier> verifier = audit::NoteVerifier::Decode(k);
  if (!verifier.ok()) return verifier.status().WithContext(path);
  return verifier;
}

}  // namespace

void AuditVerifyProof(Context& ctx, const AuditVerifyProofOptions& o) {
  Result<std::string> text = ReadInput(ctx, o.file);
  if (!text.ok()) return ctx.Fail(text.status());
  std::vector<audit::NoteVerifier> keys;
  for (const std::string& path : o.public_keys) {
    Result<audit::NoteVerifier> verifier = ReadVerifierKey(ctx, path);
    if (!verifier.ok()) return ctx.Fail(verifier.status());
    keys.push_back(*verifier);
  }
  const app::AuditProofCheck check = app::VerifyAuditProofJson(*text, keys);
  for (const std::string& line : check.proved) ctx.out << line << "\n";
  if (!check.status.ok()) return ctx.Fail(check.status.WithContext(o.file));
}

void AuditRotateKey(Context& ctx, const AuditCommonOptions& o) {
  auto s = OpenAudit(ctx, o);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<std::string> dir = (*s)->KeyDir();
  if (!dir.ok()) return ctx.Fail(dir.status());
  Result<app::AuditKeyRotation> r = app::RotateAuditKey(*dir, ctx.clock.Now());
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out << "rotated the audit signing key: " << r->old_key.Label() << " retired, "
          << r->new_key.Label() << " signs from now on\n"
          << "  new verifier key:  " << r->public_path << "\n"
          << "  old verifier key:  " << r->retired_path << " (checkpoints it signed still verify)\n"
          << "  transition note:   " << r->transition_path
          << " (signed by both keys: give it to the buyer with the new verifier key; they check "
             "it with `isms audit verify-transition`)\n";
  // The rotation's record: in the store's access log and in the audit log of every contract,
  // whose checkpoints it concerns. Its checkpoints are the first the new key signs.
  app::AccessEvent e;
  e.time = ctx.clock.Now();
  e.user = OsActor().name;
  e.via = "cli";
  e.kind = "change";
  e.action = "audit.key.rotate";
  e.target = "key " + r->old_key.Label();
  e.outcome = "success";
  e.detail = "replaced by " + r->new_key.Label();
  std::vector<std::string> contracts;
  Result<std::vector<app::ContractRecord>> all = (*s)->ledger().ListContracts();
  if (all.ok()) {
    for (const app::ContractRecord& c : *all) contracts.push_back(c.name);
  }
  Status st = all.ok() ? app::AppendAccessRecords(**s, app::AccessEntries(e, contracts), ctx.clock)
                       : all.status();
  if (!st.ok()) {
    ctx.err << "isms: the key is rotated, but its audit record was not written: " << st.message()
            << "\n";
    ctx.exit_code = 1;
  }
}

void AuditVerifyTransition(Context& ctx, const AuditVerifyTransitionOptions& o) {
  Result<audit::NoteVerifier> held = ReadVerifierKey(ctx, o.public_key);
  if (!held.ok()) return ctx.Fail(held.status());
  audit::NoteVerifier trusted = *held;
  for (const std::string& file : o.files) {
    Result<std::string> note = ReadInput(ctx, file);
    if (!note.ok()) return ctx.Fail(note.status());
    Result<app::AuditKeyTransition> t =
        app::OpenAuditKeyTransition(*note, std::span<const audit::NoteVerifier>(&trusted, 1));
    if (!t.ok()) {
      return ctx.Fail(t.status().WithContext(file + " (checked with key " + trusted.Label() + ")"));
    }
    ctx.out << "OK: " << t->from.Label() << " handed over to " << t->to.Label() << " at " << t->at
            << "\n";
    trusted = t->to;
  }
  ctx.out << trusted.Encode() << "\n";
  if (!o.output.empty() && o.output != "-") {
    std::ofstream f(o.output, std::ios::binary | std::ios::trunc);
    f << trusted.Encode() << "\n";
    if (!f.flush()) return ctx.Fail(Status::IoError(o.output + ": cannot write"));
  }
}

void AuditExport(Context& ctx, const AuditExportOptions& o) {
  if (o.format != "jsonl" && o.format != "csv") {
    return ctx.Fail(Status::InvalidArgument("--format must be jsonl or csv"));
  }
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  app::AuditSearchRequest r;
  r.contract = o.common.contract;
  if (Status st = ParseRange(o.from, o.to, r.from, r.to); !st.ok()) return ctx.Fail(st);
  std::ofstream file;
  std::ostream* out = &ctx.out;
  if (!o.output.empty() && o.output != "-") {
    file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!file) return ctx.Fail(Status::IoError(o.output + ": cannot open for writing"));
    out = &file;
  }
  *out << app::AuditExportHeader(o.format);
  std::int64_t n = 0;
  Status st = (*s)->Search(r, [&](app::AuditHit&& h) -> Result<bool> {
    ++n;
    *out << app::AuditExportLine(h, o.format);
    return true;
  });
  if (!st.ok()) return ctx.Fail(st);
  out->flush();
  if (out == &file) ctx.err << "exported " << n << " records to " << o.output << "\n";
}

void AuditPurge(Context& ctx, const AuditPurgeOptions& o) {
  Result<Date> before = ParseDate(o.before);
  if (!before.ok()) return ctx.Fail(before.status().WithContext("--before"));
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::AuditPurgeResult> r = (*s)->Purge(o.common.contract, *before, OsActor());
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out << "purged " << r->purged.chunks << " chunks (" << r->purged.records
          << " records) older than " << FormatDate(*before) << "; their hashes are kept\n";
}

void AuditUpgrade(Context& ctx, const AuditCommonOptions& o) {
  auto s = OpenAudit(ctx, o);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::AuditUpgradeResult> r = (*s)->Upgrade(o.contract);
  if (!r.ok()) return ctx.Fail(r.status());
  if (r->blocks == 0 && r->digests == 0) {
    ctx.out << "OK: every block of the audit log of " << o.contract
            << " keeps its records' kinds, and every block and tail batch of its logs the "
               "SHA-256 of its bytes; nothing to do\n";
    return;
  }
  if (r->blocks > 0) {
    ctx.out << "stored the kinds of the records of " << r->blocks << " blocks in " << r->chunks
            << " chunks; every block of the audit log of " << o.contract << " now keeps them\n";
  }
  if (r->digests > 0) {
    ctx.out << "stored the SHA-256 of the bytes of " << r->digests
            << " blocks and tail batches of the audit and ledger logs of " << o.contract
            << "; every one now keeps it\n";
  }
  ctx.out << "(" << r->transactions << " transactions)\n";
}

}  // namespace isms::cli

namespace isms::cli {

void AuditErase(Context& ctx, const AuditEraseOptions& o) {
  app::AuditEraseRequest r;
  r.contract = o.common.contract;
  r.reason = o.reason;
  if (!o.leaves.empty()) {
    Result<std::vector<std::uint64_t>> leaves = app::ParseLeafRanges(o.leaves);
    if (!leaves.ok()) return ctx.Fail(leaves.status().WithContext("--leaf"));
    r.leaves = std::move(*leaves);
  }
  const bool filter = !o.from.empty() || !o.to.empty() || !o.host.empty() || !o.user.empty() ||
                      !o.category.empty() || !o.text.empty();
  if (r.leaves.empty() && !filter) {
    return ctx.Fail(Status::InvalidArgument(
        "say which records to erase: --leaf I[,J-K], or a filter (--host, --user, --from, --to, "
        "--category, --text) as for `isms audit search`"));
  }
  if (filter) {
    if (o.host.empty() && o.user.empty() && o.text.empty() && o.category.empty()) {
      return ctx.Fail(Status::InvalidArgument(
          "--from and --to alone would erase every record of the period; add --host, --user, "
          "--category or --text"));
    }
    app::AuditSearchRequest f;
    if (Status st = ParseRange(o.from, o.to, f.from, f.to); !st.ok()) return ctx.Fail(st);
    if (!o.host.empty()) f.host = o.host;
    if (!o.user.empty()) f.user = o.user;
    if (!o.category.empty()) f.category = o.category;
    if (!o.text.empty()) f.text = o.text;
    r.filter = std::move(f);
  }
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  Result<app::AuditEraseResult> res = (*s)->Erase(r, OsActor(), o.dry_run);
  if (!res.ok()) return ctx.Fail(res.status());
  if (o.dry_run) {
    ctx.out << "would erase " << res->leaves.size() << " records";
    if (!res->leaves.empty()) ctx.out << ": leaves " << app::LeafRanges(res->leaves);
    ctx.out << "\n";
    return;
  }
  if (res->leaves.empty()) {
    ctx.out << "erased nothing: "
            << (res->already_erased > 0 ? "the records were erased before" : "no record matches")
            << "\n";
    return;
  }
  ctx.out << "erased " << res->leaves.size() << " records (leaves "
          << app::LeafRanges(res->leaves) << "); their leaf hashes are kept";
  if (res->already_erased > 0) ctx.out << "; " << res->already_erased << " were erased before";
  if (res->leases_dropped > 0) ctx.out << "; " << res->leases_dropped << " DHCP leases dropped";
  ctx.out << "\nrecorded as event " << res->event_id << " (audit.erased)\n";
}

void AuditLeases(Context& ctx, const AuditLeasesOptions& o) {
  std::optional<Instant> from, to;
  if (Status st = ParseRange(o.from, o.to, from, to); !st.ok()) return ctx.Fail(st);
  auto s = OpenAudit(ctx, o.common);
  if (!s.ok()) return ctx.Fail(s.status());
  std::optional<std::string> host, ip;
  if (!o.host.empty()) host = o.host;
  if (!o.ip.empty()) ip = o.ip;
  Result<std::vector<audit::Lease>> leases = (*s)->Leases(o.common.contract, host, ip, from, to);
  if (!leases.ok()) return ctx.Fail(leases.status());
  if (o.json) {
    ordered_json arr = ordered_json::array();
    for (const audit::Lease& l : *leases) arr.push_back(app::LeaseJson(l));
    ctx.out << Dump(arr, 2) << "\n";
    return;
  }
  for (const audit::Lease& l : *leases) {
    ctx.out << l.ip << "\t" << l.host << "\t" << l.mac << "\t" << FormatInstant(l.from) << "\t"
            << FormatInstant(l.to) << "\t" << l.first_leaf << "\t" << l.last_leaf << "\n";
  }
}

}  // namespace isms::cli
