// Shared by the monthly report's files (report*.cc): the evaluation of its rows, and the compact
// form a long report's JSON is written from.
#pragma once

#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <span>
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

// Text kept in large blocks for as long as the arena lives: one allocation per block rather
// than one per string. Not thread-safe: one arena per thread.
class TextArena {
 public:
  std::string_view Copy(std::string_view s);
  std::string_view CopyValidUtf8(std::string_view s);  // as ValidUtf8 would give it
  std::span<std::string_view> Views(size_t n);         // room for n views

 private:
  char* Room(size_t n, size_t align);
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<char, Free>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

// A ReportRow whose text lives in a TextArena (field for field the same meaning).
struct CompactRow {
  std::string_view finding, category, asset, vuln_id;
  std::span<const std::string_view> cves;
  std::string_view title, component;
  Instant first_seen{};
  std::optional<Date> patch_released;
  bool patch_released_assumed = false;
  std::string_view patch_release_source;
  std::optional<Instant> applied_at;
  std::string_view applied_by;
  std::optional<int> elapsed_days, elapsed_working_days;
  std::optional<Date> due;
  std::optional<int> deadline_days;
  std::string_view clock_state;
  std::optional<bool> within_timescale;
  bool overdue = false, at_risk = false;
  std::string_view exception;
};

// The fields of an Obligation the report shows and orders by, its text in a TextArena.
struct CompactObligation {
  std::string_view clause, key, title, subject;
  Instant trigger_at{};
  std::int64_t trigger_event_id = 0;
  std::optional<Date> due_date;
  std::optional<Instant> due_at;
  ObligationState state = ObligationState::kOpen;
  Consequence consequence = Consequence::kBreach;
  std::string_view consequence_text;
  std::optional<Instant> closed_at;
};

// A report's rows in compact form, in report order (pointers into `rows_store`).
struct CompactRows {
  std::vector<std::unique_ptr<TextArena>> arenas;
  std::vector<std::unique_ptr<std::vector<CompactRow>>> rows_store;
  std::vector<std::unique_ptr<std::vector<CompactObligation>>> obligations_store;
  std::vector<const CompactRow*> patched, outstanding;
  std::vector<const CompactObligation*> breached;
};

// Reads the findings of `ctx`'s contract first seen by `as_of` and evaluates each one's clocks as
// of then, filling the report's per-category totals (the first three), the counts of findings
// left out, and either (compact == nullptr) its patched and outstanding rows and `breached`, or
// the same in `compact`. The rows are in report order; the breached obligations are `others`
// (of the contract and its assets) and the findings', most urgent first (MoreUrgent's order),
// with valid UTF-8 titles and subjects. `events` are the finding streams' events, by stream
// ("vuln:F-<n>").
//
// The rows are read on the calling thread and evaluated on worker threads (core's rules are
// pure); the result does not depend on how many.
Status EvaluateReportRows(store::Connection& conn, const ContractContext& ctx, Instant as_of,
                          std::map<std::string, std::vector<Event>> events,
                          std::vector<Obligation> others, MonthlyReport* rep,
                          CompactRows* compact = nullptr);

// MoreUrgent(a, b), as the report's sort decides it from compact keys (the report relies on
// the two agreeing; a test holds it to that).
bool UrgencyKeyBefore(const Obligation& a, const Obligation& b);

// WriteReportJson with `rows_per_piece` rows or obligations to a piece, rendered by `threads`
// worker threads (0: one per core; none when there is only one piece).
Status WriteReportJsonInPieces(const MonthlyReport& r, size_t rows_per_piece, int threads,
                               const std::function<Status(std::string_view)>& sink);
// The same for a report whose rows are in `rows` (those of `r` are not read).
Status WriteCompactReportJson(const MonthlyReport& r, const CompactRows& rows,
                              size_t rows_per_piece, int threads,
                              const std::function<Status(std::string_view)>& sink);

}  // namespace isms::app::internal
