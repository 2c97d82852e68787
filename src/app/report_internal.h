// Shared by the monthly report's files (report*.cc): the evaluation of its rows, and the compact
// form a long report's JSON is written from.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
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

// A buffer of rendered text: its first `used` bytes.
struct Piece {
  std::string bytes;
  size_t used = 0;
};

// Writes at the end of a Piece's first `used` bytes through a raw pointer into room made
// beforehand; the string only grows (a buffer used again keeps its pages).
class PieceWriter {
 public:
  explicit PieceWriter(Piece& out) : out_(out) {}

  // At least `n` bytes of room at the end; write them, then Done() with the end.
  char* Room(size_t n) {
    std::string& b = out_.bytes;
    if (b.size() - out_.used < n) b.resize(std::max(b.size() * 3 / 2, out_.used + n));
    return b.data() + out_.used;
  }
  void Done(const char* end) { out_.used = static_cast<size_t>(end - out_.bytes.data()); }
  void Append(std::string_view s) { Done(Copy(Room(s.size()), s)); }

  static char* Copy(char* p, std::string_view s) {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());  // an empty view's data may be null
    return p + s.size();
  }
  template <size_t N>
  static char* Lit(char* p, const char (&s)[N]) {
    std::memcpy(p, s, N - 1);
    return p + N - 1;
  }
  // "YYYY-MM-DD" as FormatDate writes it (at most 40 bytes), and "YYYY-MM-DDTHH:MM:SS.mmmZ" as
  // FormatInstant does (at most 60), unquoted.
  static char* DateText(char* p, Date d);
  static char* InstantText(char* p, Instant t);

 private:
  static char* Digits(char* p, unsigned v, int width);

  Piece& out_;
};

// One of the long arrays of a rendering (rows, obligations), and what is written around its
// elements: JSON's brackets and commas; nothing for HTML's and CSV's lines.
struct PieceArray {
  PieceArray(size_t size, std::string_view open = {}, std::string_view separator = {},
             std::string_view close = {}, std::string_view empty = {})
      : size(size), open(open), separator(separator), close(close), empty(empty) {}
  size_t size;
  std::string_view open, separator, close, empty;
};

// Hands `sink` the text `head` with arrays[k] in place of the first occurrence of markers[k]
// after markers[k-1]'s (an empty array's marker may be missing). The elements are rendered,
// `rows_per_piece` to a piece, by `render(out, k, i)` (element i of array k appended to out) on
// `threads` worker threads (0: one per core; none when there is only one piece), a few pieces ahead
// of the sink. Stops at, and returns, the sink's first error.
Status WritePieces(std::string_view head, const std::vector<std::string>& markers,
                   const std::vector<PieceArray>& arrays,
                   const std::function<void(Piece&, int, size_t)>& render, size_t rows_per_piece,
                   int threads, const std::function<Status(std::string_view)>& sink);

// An element of a report's rows, whether held (ReportRow) or pointed at (const CompactRow*).
template <typename T>
const T& Deref(const T& x) {
  return x;
}
template <typename T>
const T& Deref(const T* x) {
  return *x;
}

// The rendering `format` of `r`, its rows and obligations those of `rows` when given (those of
// `r` are then not read), else r's, handed to `sink` in pieces of `rows_per_piece` rows
// rendered on `threads` worker threads (see WritePieces). The same bytes either way, and the
// same as the whole renderings (RenderReportJson, RenderReportCsv, RenderReportHtml).
Status WriteReportInPieces(ReportFormat format, const MonthlyReport& r, const CompactRows* rows,
                           size_t rows_per_piece, int threads,
                           const std::function<Status(std::string_view)>& sink);
// The rows (or obligations) to a piece of every report written: WriteReport, RenderReport*,
// Reports::Write and Reports::Issue.
inline constexpr size_t kReportRowsPerPiece = 2048;

// The rendering `format` of `r` (its rows those of `rows` when given, as above) appended to `out`,
// which is first given room for about the whole of it; written in pieces of kReportRowsPerPiece
// rows on one worker thread per core. Returns WriteReportInPieces' error, `out` then holding the
// bytes before it.
Status AppendReport(ReportFormat format, const MonthlyReport& r, const CompactRows* rows,
                    std::string& out);
// WriteReportInPieces' HTML (report_html.cc; the JSON and CSV are written in report_render.cc).
Status WriteHtmlInPieces(const MonthlyReport& r, const CompactRows* rows, size_t rows_per_piece,
                         int threads, const std::function<Status(std::string_view)>& sink);

// The HTML document rendered whole from the template as written (kainjow mustache, its row
// sections included): what the HTML was before it was streamed, and the reference a test holds
// WriteHtmlInPieces to.
Result<std::string> RenderReportHtmlFromTemplate(const MonthlyReport& r);

}  // namespace isms::app::internal
