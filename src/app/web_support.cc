#include "app/web_support.h"

namespace isms::app {

Result<ContractStamp> StampOf(Ledger& ledger, const std::string& contract) {
  ISMS_ASSIGN_OR_RETURN(ContractRecord c, ledger.FindContract(contract));
  ContractStamp s;
  s.contract_id = c.id;
  ISMS_ASSIGN_OR_RETURN(
      auto st, ledger.connection().Prepare(
                   "SELECT (SELECT MAX(id) FROM events WHERE contract_id = $1), "
                   "(SELECT MAX(id) FROM scans WHERE contract_id = $1), "
                   "(SELECT MAX(id) FROM advisories), "
                   "(SELECT MIN(next_change) FROM streams WHERE contract_id = $1)"));
  st->BindInt(1, c.id);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (row) {
    s.last_event = st->ColumnInt(0);
    s.last_scan = st->ColumnInt(1);
    s.last_advisory = st->ColumnInt(2);
    if (!st->IsNull(3)) {
      s.next_change = Instant(std::chrono::milliseconds(st->ColumnInt(3)));
    }
  }
  return s;
}

}  // namespace isms::app
