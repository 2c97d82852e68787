// Shared by the monthly report's files (report*.cc): the evaluation of its rows.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "app/ledger.h"
#include "app/report.h"
#include "store/store.h"

namespace isms::app::internal {

// `s` made valid UTF-8: each byte that starts no valid sequence becomes U+FFFD.
std::string ValidUtf8(std::string_view s);
void MakeValidUtf8(std::string* s);

// Reads the findings of `ctx`'s contract first seen by `as_of` and evaluates each one's clocks as
// of then, filling the report's patched and outstanding rows (in report order), its per-category
// totals (the first three), the counts of findings left out, and `rep->breached`: the breached
// obligations `others` (of the contract and its assets) and the findings', most urgent first (as
// one stable sort by MoreUrgent would order them), with valid UTF-8 titles and subjects.
// `events` are the finding streams' events, by stream ("vuln:F-<n>").
//
// The rows are read on the calling thread and evaluated on worker threads (core's rules are
// pure); the result does not depend on how many.
Status EvaluateReportRows(store::Connection& conn, const ContractContext& ctx, Instant as_of,
                          std::map<std::string, std::vector<Event>> events,
                          std::vector<Obligation> others, MonthlyReport* rep);

// WriteReportJson with `rows_per_piece` rows or obligations to a piece, rendered by `threads`
// worker threads (0: one per core; none when there is only one piece).
Status WriteReportJsonInPieces(const MonthlyReport& r, size_t rows_per_piece, int threads,
                               const std::function<Status(std::string_view)>& sink);

}  // namespace isms::app::internal
