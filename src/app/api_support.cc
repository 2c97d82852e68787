#include "app/api_support.h"

#include "core/calendar.h"
#include "core/rules.h"

namespace isms::app {

Result<std::vector<IssuedReportInfo>> ListIssuedReports(Ledger& ledger,
                                                        const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger.FindContract(contract));
  ISMS_ASSIGN_OR_RETURN(auto st, ledger.connection().Prepare(
                                     "SELECT month, issued_at, issued_by, sha256, event_id FROM "
                                     "reports WHERE contract_id = $1 AND event_id IS NOT NULL "
                                     "ORDER BY month DESC, issued_at DESC"));
  st->BindInt(1, c.id);
  std::vector<IssuedReportInfo> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    IssuedReportInfo r;
    r.month = st->ColumnText(0);
    r.issued_at = Instant(std::chrono::milliseconds(st->ColumnInt(1)));
    r.issued_by = st->ColumnText(2);
    r.sha256 = st->ColumnText(3);
    r.event_id = st->ColumnInt(4);
    out.push_back(std::move(r));
  }
  return out;
}

Result<bool> IsEventBackdated(Ledger& ledger, const std::string& contract, const Event& e) {
  if (std::optional<bool> b = ledger.RecordedBackdated(contract, e.id)) return *b;
  ISMS_ASSIGN_OR_RETURN(ContractContext ctx, ledger.Context(contract));
  return IsBackdated(e, ctx.calendar, PolicyInForce(ctx.versions, LondonDate(e.at)));
}

}  // namespace isms::app
