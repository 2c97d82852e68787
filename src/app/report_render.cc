// The renderings of the monthly report: JSON (the record whose sha256 the ledger keeps) and CSV,
// and the writing of a rendering in pieces rendered on worker threads (report_html.cc: HTML).
// Field names: docs/reports.md.
#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/report.h"
#include "app/report_internal.h"

namespace isms::app {
namespace {

using internal::Deref;
using internal::Piece;
using internal::PieceWriter;
using nlohmann::ordered_json;

ordered_json OptDate(const std::optional<Date>& d) {
  return d ? ordered_json(FormatDate(*d)) : ordered_json(nullptr);
}

// The long arrays of the JSON report written straight into its text, byte for byte as nlohmann's
// dump(2, ' ', false, error_handler_t::replace) writes the same values (the frozen report's
// sha256 depends on them): a document tree of 400,000 rows costs seconds and gigabytes. Each
// element is written through a raw pointer into room made for it beforehand, its size bounded
// by its text (escaping makes at most six bytes of one).
class JsonWriter : public PieceWriter {
 public:
  explicit JsonWriter(Piece& out) : PieceWriter(out) {}

  // A JSON string: escaped as nlohmann escapes (", \, and control characters; other bytes as
  // they are). Text that is not valid UTF-8 (rare: the report's text is made valid as it is
  // read) is written by nlohmann, whose replacement rules decide it.
  static char* String(char* p, std::string_view s) {
    char* const start = p;
    *p++ = '"';
    size_t i = 0;
    while (i < s.size()) {
      // Eight bytes at a time while none needs a second look (a control character, '"', '\\'
      // or a byte of a multi-byte character).
      while (i + 8 <= s.size()) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
        auto zero_byte = [&](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
        const std::uint64_t special = (w & kHigh) | ((w - 0x20 * kOnes) & ~w & kHigh) |
                                      zero_byte(w ^ ('"' * kOnes)) | zero_byte(w ^ ('\\' * kOnes));
        if (special != 0) break;
        std::memcpy(p, &w, 8);
        p += 8;
        i += 8;
      }
      if (i >= s.size()) break;
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        *p++ = static_cast<char>(c);
        ++i;
        continue;
      }
      if (c >= 0x80) {
        const size_t len = Utf8SequenceLength(s, i);
        if (len == 0) {
          return Copy(start, ordered_json(std::string(s))
                                 .dump(-1, ' ', false, ordered_json::error_handler_t::replace));
        }
        p = Copy(p, s.substr(i, len));
        i += len;
        continue;
      }
      ++i;
      *p++ = '\\';
      switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\b': *p++ = 'b'; break;
        case '\t': *p++ = 't'; break;
        case '\n': *p++ = 'n'; break;
        case '\f': *p++ = 'f'; break;
        case '\r': *p++ = 'r'; break;
        default: {
          static const char* const kHex = "0123456789abcdef";
          p = Lit(p, "u00");
          *p++ = kHex[c >> 4];
          *p++ = kHex[c & 15];
        }
      }
    }
    *p++ = '"';
    return p;
  }
  // Room a string needs at most.
  static size_t Bound(std::string_view s) { return 6 * s.size() + 2; }

  static char* Int(char* p, std::int64_t n) { return std::to_chars(p, p + 24, n).ptr; }
  static char* OptInt(char* p, const std::optional<int>& n) {
    return n ? Int(p, *n) : Lit(p, "null");
  }
  static char* Bool(char* p, bool b) { return b ? Lit(p, "true") : Lit(p, "false"); }
  static char* OptText(char* p, std::string_view s) {
    return s.empty() ? Lit(p, "null") : String(p, s);
  }

  static char* Date(char* p, const std::optional<isms::Date>& d) {
    if (!d) return Lit(p, "null");
    *p++ = '"';
    p = DateText(p, *d);
    *p++ = '"';
    return p;
  }
  static char* Instant(char* p, const std::optional<isms::Instant>& t) {
    if (!t) return Lit(p, "null");
    *p++ = '"';
    p = InstantText(p, *t);
    *p++ = '"';
    return p;
  }
};

// One row of "patched" or "outstanding", an element of a member array of the document: its
// members are three levels deep.
template <typename Row>  // ReportRow or CompactRow
void WriteRow(JsonWriter& w, const Row& v, bool patched) {
  using J = JsonWriter;
  size_t bound = 1600 + J::Bound(v.finding) + J::Bound(v.category) + J::Bound(v.asset) +
                 J::Bound(v.vuln_id) + J::Bound(v.title) + J::Bound(v.component) +
                 J::Bound(v.patch_release_source) + J::Bound(v.applied_by) +
                 J::Bound(v.clock_state) + J::Bound(v.exception);
  for (const auto& c : v.cves) bound += 12 + J::Bound(c);
  char* p = w.Room(bound);
  p = J::Lit(p, "{\n      \"finding\": ");
  p = J::String(p, v.finding);
  p = J::Lit(p, ",\n      \"category\": ");
  p = J::String(p, v.category);
  p = J::Lit(p, ",\n      \"asset\": ");
  p = J::String(p, v.asset);
  p = J::Lit(p, ",\n      \"vuln_id\": ");
  p = J::String(p, v.vuln_id);
  p = J::Lit(p, ",\n      \"cves\": ");
  if (v.cves.empty()) {
    p = J::Lit(p, "[]");
  } else {
    *p++ = '[';
    for (size_t i = 0; i < v.cves.size(); ++i) {
      p = i == 0 ? J::Lit(p, "\n        ") : J::Lit(p, ",\n        ");
      p = J::String(p, v.cves[i]);
    }
    p = J::Lit(p, "\n      ]");
  }
  p = J::Lit(p, ",\n      \"title\": ");
  p = J::String(p, v.title);
  p = J::Lit(p, ",\n      \"component\": ");
  p = J::String(p, v.component);
  p = J::Lit(p, ",\n      \"first_seen\": ");
  p = J::Instant(p, v.first_seen);
  p = J::Lit(p, ",\n      \"patch_released\": ");
  p = J::Date(p, v.patch_released);
  p = J::Lit(p, ",\n      \"patch_released_assumed\": ");
  p = J::Bool(p, v.patch_released_assumed);
  p = J::Lit(p, ",\n      \"patch_release_source\": ");
  p = J::OptText(p, v.patch_release_source);
  if (patched) {
    p = J::Lit(p, ",\n      \"applied_at\": ");
    p = J::Instant(p, v.applied_at);
    p = J::Lit(p, ",\n      \"applied_date\": ");
    p = J::Date(p,
                v.applied_at ? std::optional<isms::Date>(LondonDate(*v.applied_at)) : std::nullopt);
    p = J::Lit(p, ",\n      \"applied_by\": ");
    p = J::String(p, v.applied_by);
  }
  p = J::Lit(p, ",\n      \"elapsed_days\": ");
  p = J::OptInt(p, v.elapsed_days);
  p = J::Lit(p, ",\n      \"elapsed_working_days\": ");
  p = J::OptInt(p, v.elapsed_working_days);
  p = J::Lit(p, ",\n      \"due\": ");
  p = J::Date(p, v.due);
  p = J::Lit(p, ",\n      \"deadline_days\": ");
  p = J::OptInt(p, v.deadline_days);
  p = J::Lit(p, ",\n      \"clock_state\": ");
  p = J::OptText(p, v.clock_state);
  if (patched) {
    p = J::Lit(p, ",\n      \"within_timescale\": ");
    p = v.within_timescale ? J::Bool(p, *v.within_timescale) : J::Lit(p, "null");
  } else {
    p = J::Lit(p, ",\n      \"overdue\": ");
    p = J::Bool(p, v.overdue);
    p = J::Lit(p, ",\n      \"at_risk\": ");
    p = J::Bool(p, v.at_risk);
  }
  p = J::Lit(p, ",\n      \"exception\": ");
  p = J::String(p, v.exception);
  p = J::Lit(p, "\n    }");
  w.Done(p);
}

template <typename O>  // Obligation or CompactObligation
void WriteObligation(JsonWriter& w, const O& o) {
  using J = JsonWriter;
  const std::string_view state = ObligationStateName(o.state);
  const std::string_view consequence = ConsequenceName(o.consequence);
  char* p =
      w.Room(700 + J::Bound(o.clause) + J::Bound(o.key) + J::Bound(o.title) + J::Bound(o.subject) +
             J::Bound(state) + J::Bound(consequence) + J::Bound(o.consequence_text));
  p = J::Lit(p, "{\n      \"clause\": ");
  p = J::String(p, o.clause);
  p = J::Lit(p, ",\n      \"key\": ");
  p = J::String(p, o.key);
  p = J::Lit(p, ",\n      \"title\": ");
  p = J::String(p, o.title);
  p = J::Lit(p, ",\n      \"subject\": ");
  p = J::String(p, o.subject);
  p = J::Lit(p, ",\n      \"due\": ");
  p = J::Date(p, o.due_date);
  p = J::Lit(p, ",\n      \"due_at\": ");
  p = J::Instant(p, o.due_at);
  p = J::Lit(p, ",\n      \"state\": ");
  p = J::String(p, state);
  p = J::Lit(p, ",\n      \"consequence\": ");
  p = J::String(p, consequence);
  p = J::Lit(p, ",\n      \"consequence_text\": ");
  p = J::String(p, o.consequence_text);
  p = J::Lit(p, "\n    }");
  w.Done(p);
}

// The document without its three long arrays: in their place, the markers below.
std::string JsonHead(const MonthlyReport& r) {
  ordered_json j;
  j["report"] = "monthly vulnerability report";
  j["format_version"] = 1;
  j["clause"] = "9.5.5";
  j["contract"] = r.contract;
  j["buyer"] = r.buyer;
  j["supplier"] = r.supplier;
  j["month"] = r.month;
  j["period"] = {{"first_day", FormatDate(r.first_day)},
                 {"last_day", FormatDate(r.last_day)},
                 {"start", FormatInstant(r.period_start)},
                 {"end", FormatInstant(r.period_end)}};
  j["report_due"] = OptDate(r.report_due);
  j["issued"] = r.issued;
  j["issued_at"] = FormatInstant(r.issued_at);
  j["issued_by"] = r.issued ? ordered_json(r.issued_by) : ordered_json(nullptr);
  j["month_ended"] = r.month_ended;
  ordered_json ts = ordered_json::array();
  for (const ReportTimescale& t : r.timescales) {
    ts.push_back(
        {{"clause", t.clause},
         {"key", t.key},
         {"category", t.category.empty() ? ordered_json(nullptr) : ordered_json(t.category)},
         {"title", t.title},
         {"timescale", t.timescale},
         {"source", t.source},
         {"wording", t.wording},
         {"reference", t.reference}});
  }
  j["timescales"] = ts;
  j["patch_release_rule"] = r.patch_release_rule;
  ordered_json totals = ordered_json::object();
  for (const CategoryTotals& t : r.totals) {
    totals[t.category] = {{"patched_within", t.patched_within},
                          {"patched_late", t.patched_late},
                          {"outstanding_within", t.outstanding_within},
                          {"outstanding_overdue", t.outstanding_overdue}};
  }
  j["totals"] = totals;
  // The three long arrays are written piece by piece (JsonWriter) in place of these.
  j["patched"] =
      "\x01"
      "patched";
  j["outstanding"] =
      "\x01"
      "outstanding";
  j["breached_obligations"] =
      "\x01"
      "breached";
  j["excluded"] = {{"observations", r.observations},
                   {"own_code", r.own_code},
                   {"not_affected", r.not_affected},
                   {"patched_after_month", r.patched_after_month}};
  j["caveats"] = r.caveats;
  const auto or_null = [](const std::string& v) {
    return v.empty() ? ordered_json(nullptr) : ordered_json(v);
  };
  j["audit_log"] = {{"checkpoint", or_null(r.audit.checkpoint)},
                    {"verifier_key", or_null(r.audit.verifier_key)},
                    {"key_rotations", r.audit.key_rotations},
                    {"note", or_null(r.audit.note)}};
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

// A CSV cell (CsvTextCell) of text already joined, written at p (at most 2 * size + 3 bytes).
char* CsvCell(char* p, std::string_view s) {
  const bool quote_sign = CsvLooksLikeAFormula(s);
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    if (quote_sign) *p++ = '\'';
    return PieceWriter::Copy(p, s);
  }
  *p++ = '"';
  if (quote_sign) *p++ = '\'';
  for (char c : s) {
    if (c == '"') *p++ = '"';
    *p++ = c;
  }
  *p++ = '"';
  return p;
}

char* CsvYes(char* p, bool b) {
  return b ? PieceWriter::Lit(p, "yes") : PieceWriter::Lit(p, "no");
}

char* CsvInt(char* p, const std::optional<int>& n) {
  return n ? std::to_chars(p, p + 24, *n).ptr : p;
}

constexpr const char* kCsvColumns[] = {"section",
                                       "finding",
                                       "category",
                                       "asset",
                                       "vuln_id",
                                       "cves",
                                       "title",
                                       "component",
                                       "patch_released",
                                       "patch_released_assumed",
                                       "patch_release_source",
                                       "applied_at",
                                       "applied_by",
                                       "elapsed_days",
                                       "elapsed_working_days",
                                       "due",
                                       "clock_state",
                                       "within_timescale",
                                       "overdue",
                                       "at_risk",
                                       "exception"};

// One line of the CSV (the columns above), CRLF-ended; `cves` is room to join the CVEs in.
template <typename Row>  // ReportRow or CompactRow
void WriteCsvLine(Piece& out, const Row& v, bool patched, std::string& cves) {
  cves.clear();
  for (const auto& c : v.cves) {
    if (!cves.empty()) cves += ' ';
    cves += c;
  }
  auto bound = [](std::string_view s) { return 2 * s.size() + 4; };
  PieceWriter w(out);
  char* p =
      w.Room(400 + bound(v.finding) + bound(v.category) + bound(v.asset) + bound(v.vuln_id) +
             bound(cves) + bound(v.title) + bound(v.component) + bound(v.patch_release_source) +
             bound(v.applied_by) + bound(v.clock_state) + bound(v.exception));
  using W = PieceWriter;
  p = patched ? W::Lit(p, "patched,") : W::Lit(p, "outstanding,");
  p = CsvCell(p, v.finding);
  *p++ = ',';
  p = CsvCell(p, v.category);
  *p++ = ',';
  p = CsvCell(p, v.asset);
  *p++ = ',';
  p = CsvCell(p, v.vuln_id);
  *p++ = ',';
  p = CsvCell(p, cves);
  *p++ = ',';
  p = CsvCell(p, v.title);
  *p++ = ',';
  p = CsvCell(p, v.component);
  *p++ = ',';
  if (v.patch_released) p = W::DateText(p, *v.patch_released);
  *p++ = ',';
  p = CsvYes(p, v.patch_released_assumed);
  *p++ = ',';
  p = CsvCell(p, v.patch_release_source);
  *p++ = ',';
  if (v.applied_at) p = W::InstantText(p, *v.applied_at);
  *p++ = ',';
  p = CsvCell(p, v.applied_by);
  *p++ = ',';
  p = CsvInt(p, v.elapsed_days);
  *p++ = ',';
  p = CsvInt(p, v.elapsed_working_days);
  *p++ = ',';
  if (v.due) p = W::DateText(p, *v.due);
  *p++ = ',';
  p = CsvCell(p, v.clock_state);
  *p++ = ',';
  if (patched && v.within_timescale) p = CsvYes(p, *v.within_timescale);
  *p++ = ',';
  if (!patched) p = CsvYes(p, v.overdue);
  *p++ = ',';
  if (!patched) p = CsvYes(p, v.at_risk);
  *p++ = ',';
  p = CsvCell(p, v.exception);
  p = W::Lit(p, "\r\n");
  w.Done(p);
}

template <typename Patched, typename Outstanding>
Status CsvInPieces(const Patched& patched, const Outstanding& outstanding, size_t rows_per_piece,
                   int threads, const std::function<Status(std::string_view)>& sink) {
  std::string head;
  for (size_t i = 0; i < std::size(kCsvColumns); ++i) {
    if (i > 0) head += ',';
    head += kCsvColumns[i];
  }
  head += "\r\n";
  const std::vector<std::string> markers = {"\x01patched", "\x01outstanding"};
  head += markers[0];
  head += markers[1];
  return internal::WritePieces(
      head, markers, {{patched.size()}, {outstanding.size()}},
      [&](Piece& out, int array, size_t i) {
        thread_local std::string cves;
        if (array == 0) return WriteCsvLine(out, Deref(patched[i]), true, cves);
        WriteCsvLine(out, Deref(outstanding[i]), false, cves);
      },
      rows_per_piece, threads, sink);
}

}  // namespace

bool CsvLooksLikeAFormula(std::string_view value) {
  if (value.empty()) return false;
  const char c = value[0];
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r' || c == '\0';
}

std::string CsvTextCell(std::string_view value) {
  std::string s(2 * value.size() + 3, '\0');
  s.resize(static_cast<size_t>(CsvCell(s.data(), value) - s.data()));
  return s;
}

std::string RenderReportJson(const MonthlyReport& r) {
  std::string out;
  (void)internal::AppendReport(ReportFormat::kJson, r, nullptr, out);
  return out;
}

std::string RenderReportCsv(const MonthlyReport& r) {
  std::string out;
  (void)internal::AppendReport(ReportFormat::kCsv, r, nullptr, out);
  return out;
}

Result<std::string> RenderReportHtml(const MonthlyReport& r) {
  std::string out;
  ISMS_RETURN_IF_ERROR(internal::AppendReport(ReportFormat::kHtml, r, nullptr, out));
  return out;
}

Status WriteReport(ReportFormat format, const MonthlyReport& r,
                   const std::function<Status(std::string_view)>& sink) {
  return internal::WriteReportInPieces(format, r, nullptr, internal::kReportRowsPerPiece, 0, sink);
}

namespace internal {

char* PieceWriter::DateText(char* p, Date d) {
  const int y = static_cast<int>(d.year());
  const unsigned m = static_cast<unsigned>(d.month()), day = static_cast<unsigned>(d.day());
  if (y < 0 || y > 9999 || m > 99 || day > 99) return Copy(p, FormatDate(d));
  p = Digits(p, static_cast<unsigned>(y), 4);
  *p++ = '-';
  p = Digits(p, m, 2);
  *p++ = '-';
  return Digits(p, day, 2);
}

char* PieceWriter::InstantText(char* p, Instant t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const Date d(day);
  const int y = static_cast<int>(d.year());
  if (y < 0 || y > 9999) return Copy(p, FormatInstant(t));
  const auto ms = static_cast<unsigned>((t - day).count());
  p = Digits(p, static_cast<unsigned>(y), 4);
  *p++ = '-';
  p = Digits(p, static_cast<unsigned>(d.month()), 2);
  *p++ = '-';
  p = Digits(p, static_cast<unsigned>(d.day()), 2);
  *p++ = 'T';
  p = Digits(p, ms / 3600000, 2);
  *p++ = ':';
  p = Digits(p, ms / 60000 % 60, 2);
  *p++ = ':';
  p = Digits(p, ms / 1000 % 60, 2);
  *p++ = '.';
  p = Digits(p, ms % 1000, 3);
  *p++ = 'Z';
  return p;
}

char* PieceWriter::Digits(char* p, unsigned v, int width) {
  for (int k = width - 1; k >= 0; --k) {
    p[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

Status WritePieces(std::string_view head, const std::vector<std::string>& markers,
                   const std::vector<PieceArray>& arrays,
                   const std::function<void(Piece&, int, size_t)>& render_element,
                   size_t rows_per_piece, int threads,
                   const std::function<Status(std::string_view)>& sink) {
  // The output in order: text of the head, and the pieces of the arrays in place of markers.
  struct Part {
    std::string_view text;
    int array = -1;  // else a piece of arrays[array]
    size_t begin = 0, end = 0;
  };
  std::vector<Part> parts;
  size_t from = 0;
  for (size_t a = 0; a < arrays.size(); ++a) {
    const PieceArray& pa = arrays[a];
    const size_t at = head.find(markers[a], from);
    if (at == std::string_view::npos) {
      // An empty array's place may be left out (HTML: no table without rows).
      if (pa.size == 0) continue;
      return Status::Internal("the report's rendering has no place for its " +
                              std::to_string(a + 1) + ". array of rows");
    }
    parts.push_back({head.substr(from, at - from)});
    if (pa.size == 0 && !pa.empty.empty()) parts.push_back({pa.empty});
    for (size_t b = 0; b < pa.size; b += rows_per_piece) {
      parts.push_back({{}, static_cast<int>(a), b, std::min(pa.size, b + rows_per_piece)});
    }
    from = at + markers[a].size();
  }
  parts.push_back({head.substr(from)});

  auto render = [&](const Part& p, Piece& out) {
    out.used = 0;
    PieceWriter w(out);
    const PieceArray& pa = arrays[static_cast<size_t>(p.array)];
    for (size_t i = p.begin; i < p.end; ++i) {
      w.Append(i == 0 ? pa.open : pa.separator);
      render_element(out, p.array, i);
    }
    if (p.end == pa.size) w.Append(pa.close);
  };
  std::vector<size_t> pieces;  // indices of the parts that are pieces
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].array >= 0) pieces.push_back(i);
  }
  if (threads <= 0) {
    threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  }
  if (pieces.size() < 2) threads = 0;  // not worth a thread
  if (threads == 0) {
    Piece piece;
    for (const Part& p : parts) {
      if (p.array < 0) {
        if (!p.text.empty()) ISMS_RETURN_IF_ERROR(sink(p.text));
        continue;
      }
      render(p, piece);
      ISMS_RETURN_IF_ERROR(sink(std::string_view(piece.bytes).substr(0, piece.used)));
    }
    return Status::Ok();
  }

  // Workers render pieces into a ring of buffers, at most `window` ahead of the writing.
  const size_t window = 2 * static_cast<size_t>(threads) + 2;
  std::vector<Piece> ring(window);
  std::vector<char> ready(pieces.size(), 0);
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0, written = 0;
  bool stop = false;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (true) {
        size_t k;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return stop || next == pieces.size() || next < written + window; });
          if (stop || next == pieces.size()) return;
          k = next++;
        }
        render(parts[pieces[k]], ring[k % window]);
        {
          std::lock_guard lock(mu);
          ready[k] = 1;
        }
        cv.notify_all();
      }
    });
  }
  Status status = Status::Ok();
  size_t k = 0;
  for (const Part& p : parts) {
    if (p.array < 0) {
      if (!p.text.empty()) status = sink(p.text);
    } else {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return ready[k] != 0; });
      }
      const Piece& piece = ring[k % window];
      status = sink(std::string_view(piece.bytes).substr(0, piece.used));
      {
        std::lock_guard lock(mu);
        written = ++k;
      }
      cv.notify_all();
    }
    if (!status.ok()) break;
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  for (std::thread& t : workers) t.join();
  return status;
}

namespace {

Status WriteJsonInPieces(const MonthlyReport& r, const CompactRows* rows, size_t rows_per_piece,
                         int threads, const std::function<Status(std::string_view)>& sink) {
  const std::vector<std::string> markers = {"\"\\u0001patched\"", "\"\\u0001outstanding\"",
                                            "\"\\u0001breached\""};
  auto write = [&](const auto& patched, const auto& outstanding, const auto& breached) {
    const PieceArray form(0, "[\n    ", ",\n    ", "\n  ]", "[]");
    std::vector<PieceArray> arrays(3, form);
    arrays[0].size = patched.size();
    arrays[1].size = outstanding.size();
    arrays[2].size = breached.size();
    return WritePieces(
        JsonHead(r), markers, arrays,
        [&](Piece& out, int array, size_t i) {
          JsonWriter w(out);
          if (array == 2) return WriteObligation(w, Deref(breached[i]));
          if (array == 0) return WriteRow(w, Deref(patched[i]), true);
          WriteRow(w, Deref(outstanding[i]), false);
        },
        rows_per_piece, threads, sink);
  };
  return rows ? write(rows->patched, rows->outstanding, rows->breached)
              : write(r.patched, r.outstanding, r.breached);
}

Status WriteCsvInPieces(const MonthlyReport& r, const CompactRows* rows, size_t rows_per_piece,
                        int threads, const std::function<Status(std::string_view)>& sink) {
  return rows ? CsvInPieces(rows->patched, rows->outstanding, rows_per_piece, threads, sink)
              : CsvInPieces(r.patched, r.outstanding, rows_per_piece, threads, sink);
}

}  // namespace

Status WriteReportInPieces(ReportFormat format, const MonthlyReport& r, const CompactRows* rows,
                           size_t rows_per_piece, int threads,
                           const std::function<Status(std::string_view)>& sink) {
  switch (format) {
    case ReportFormat::kJson: return WriteJsonInPieces(r, rows, rows_per_piece, threads, sink);
    case ReportFormat::kCsv: return WriteCsvInPieces(r, rows, rows_per_piece, threads, sink);
    case ReportFormat::kHtml: return WriteHtmlInPieces(r, rows, rows_per_piece, threads, sink);
  }
  return Status::InvalidArgument("unknown report format");
}

Status AppendReport(ReportFormat format, const MonthlyReport& r, const CompactRows* rows,
                    std::string& out) {
  const size_t rows_n = rows ? rows->patched.size() + rows->outstanding.size()
                             : r.patched.size() + r.outstanding.size();
  const size_t obligations = rows ? rows->breached.size() : r.breached.size();
  // About 1 KB of JSON per row and 450 bytes per obligation, 600 and 300 of HTML, 200 of CSV
  // per row: one allocation for most reports.
  switch (format) {
    case ReportFormat::kJson:
      out.reserve(out.size() + 4096 + 1100 * rows_n + 450 * obligations);
      break;
    case ReportFormat::kCsv: out.reserve(out.size() + 512 + 200 * rows_n); break;
    case ReportFormat::kHtml:
      out.reserve(out.size() + 16384 + 600 * rows_n + 300 * obligations);
      break;
  }
  return WriteReportInPieces(format, r, rows, kReportRowsPerPiece, 0, [&](std::string_view bytes) {
    out.append(bytes);
    return Status::Ok();
  });
}

}  // namespace internal
}  // namespace isms::app
