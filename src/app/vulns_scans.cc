// 9.5.4: every in-scope asset of the register has a recent scan. Each asset has the ledger
// stream "scan:<asset id>" holding its one scan-recency obligation.
#include "app/vulns.h"
#include "app/vulns_internal.h"

namespace isms::app {
using namespace internal;

std::string ScanStream(std::int64_t asset_id) {
  return "scan:" + std::to_string(asset_id);
}

namespace {

Evaluation Evaluate(const ContractContext& ctx, const std::string& name, Instant registered,
                    std::optional<Instant> last_scanned, Instant now) {
  Evaluation ev;
  Obligation o =
      ScanRecencyObligation(name, registered, last_scanned, ctx.versions, ctx.calendar, now);
  if (o.state == ObligationState::kOpen && o.due_at) {
    ev.next_change = *o.due_at + std::chrono::milliseconds(1);
  }
  ev.obligations.push_back(std::move(o));
  return ev;
}

}  // namespace

Result<Evaluation> EvaluateScanStream(store::Connection& conn, const ContractContext& ctx,
                                      const std::string& stream, Instant now) {
  std::int64_t id = 0;
  try {
    id = std::stoll(stream.substr(5));
  } catch (const std::exception&) {
    return Status::Corruption("stream '" + stream + "' names no asset");
  }
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT name, created_at, last_scanned_at FROM "
                                              "assets WHERE contract_id = $1 AND id = $2"));
  st->BindInt(1, ctx.record.id);
  st->BindInt(2, id);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Status::Corruption("stream '" + stream + "': no such asset");
  std::optional<Instant> last;
  if (!st->IsNull(2)) last = FromMs(st->ColumnInt(2));
  return Evaluate(ctx, st->ColumnText(0), FromMs(st->ColumnInt(1)), last, now);
}

Result<std::vector<std::pair<std::string, Evaluation>>> EvaluateAllScanStreams(
    store::Connection& conn, const ContractContext& ctx, Instant now) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn.Prepare("SELECT id, name, created_at, last_scanned_at FROM "
                                              "assets WHERE contract_id = $1 ORDER BY id"));
  st->BindInt(1, ctx.record.id);
  std::vector<std::pair<std::string, Evaluation>> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
    if (!more) break;
    std::optional<Instant> last;
    if (!st->IsNull(3)) last = FromMs(st->ColumnInt(3));
    out.emplace_back(ScanStream(st->ColumnInt(0)),
                     Evaluate(ctx, st->ColumnText(1), FromMs(st->ColumnInt(2)), last, now));
  }
  return out;
}

namespace internal {

Result<std::vector<std::pair<std::string, Evaluation>>> EvaluateScanStreamsOf(
    store::Connection& conn, const ContractContext& ctx, std::int64_t scan_id, Instant now) {
  ISMS_ASSIGN_OR_RETURN(
      auto st, conn.Prepare("SELECT a.id, a.name, a.created_at, a.last_scanned_at FROM assets a "
                            "JOIN scan_assets sa ON sa.contract_id = a.contract_id AND "
                            "sa.asset_id = a.id WHERE a.contract_id = $1 AND sa.scan_id = $2 "
                            "ORDER BY a.id"));
  st->BindInt(1, ctx.record.id);
  st->BindInt(2, scan_id);
  std::vector<std::pair<std::string, Evaluation>> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
    if (!more) break;
    std::optional<Instant> last;
    if (!st->IsNull(3)) last = FromMs(st->ColumnInt(3));
    out.emplace_back(ScanStream(st->ColumnInt(0)),
                     Evaluate(ctx, st->ColumnText(1), FromMs(st->ColumnInt(2)), last, now));
  }
  return out;
}

}  // namespace internal

}  // namespace isms::app
