// The renderings of the monthly report: JSON (the record whose sha256 the ledger keeps), CSV, and
// a standalone HTML document from a mustache template (kainjow mustache: every {{value}} is
// HTML-escaped; the template uses no triple mustache). Field names: docs/reports.md.
#include <algorithm>
#include <array>
#include <condition_variable>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <kainjow/mustache.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/report.h"
#include "app/report_internal.h"

namespace isms::app {
namespace {

using nlohmann::ordered_json;
using Data = kainjow::mustache::data;

ordered_json OptDate(const std::optional<Date>& d) {
  return d ? ordered_json(FormatDate(*d)) : ordered_json(nullptr);
}

// A buffer of JSON text: its first `used` bytes.
struct Piece {
  std::string bytes;
  size_t used = 0;
};

// The long arrays of the JSON report written straight into its text, byte for byte as nlohmann's
// dump(2, ' ', false, error_handler_t::replace) writes the same values (the frozen report's
// sha256 depends on them): a document tree of 400,000 rows costs seconds and gigabytes. Each
// element is written through a raw pointer into room made for it beforehand, its size bounded
// by its text (escaping makes at most six bytes of one).
class JsonWriter {
 public:
  // Writes at the end of out.bytes' first out.used bytes; the string only grows (a buffer used
  // again keeps its pages).
  explicit JsonWriter(Piece& out) : out_(out) {}

  // At least `n` bytes of room at the end; write them, then Done() with the end.
  char* Room(size_t n) {
    std::string& b = out_.bytes;
    if (b.size() - out_.used < n) b.resize(std::max(b.size() * 3 / 2, out_.used + n));
    return b.data() + out_.used;
  }
  void Done(const char* end) { out_.used = static_cast<size_t>(end - out_.bytes.data()); }
  void Append(std::string_view s) { Done(Copy(Room(s.size()), s)); }

  static char* Copy(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
  }
  template <size_t N>
  static char* Lit(char* p, const char (&s)[N]) {
    std::memcpy(p, s, N - 1);
    return p + N - 1;
  }

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
                                      zero_byte(w ^ ('"' * kOnes)) |
                                      zero_byte(w ^ ('\\' * kOnes));
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

  // "YYYY-MM-DD" as FormatDate writes it (at most 40 bytes).
  static char* Date(char* p, const std::optional<isms::Date>& d) {
    if (!d) return Lit(p, "null");
    const int y = static_cast<int>(d->year());
    const unsigned m = static_cast<unsigned>(d->month()), day = static_cast<unsigned>(d->day());
    if (y < 0 || y > 9999 || m > 99 || day > 99) return String(p, FormatDate(*d));
    *p++ = '"';
    p = Digits(p, static_cast<unsigned>(y), 4);
    *p++ = '-';
    p = Digits(p, m, 2);
    *p++ = '-';
    p = Digits(p, day, 2);
    *p++ = '"';
    return p;
  }
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" as FormatInstant writes it (at most 60 bytes).
  static char* Instant(char* p, const std::optional<isms::Instant>& t) {
    if (!t) return Lit(p, "null");
    const auto day = std::chrono::floor<std::chrono::days>(*t);
    const isms::Date d(day);
    const int y = static_cast<int>(d.year());
    if (y < 0 || y > 9999) return String(p, FormatInstant(*t));
    const auto ms = static_cast<unsigned>((*t - day).count());
    *p++ = '"';
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
    return Lit(p, "Z\"");
  }

 private:
  static char* Digits(char* p, unsigned v, int width) {
    for (int k = width - 1; k >= 0; --k) {
      p[k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    return p + width;
  }

  Piece& out_;
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
    p = J::Date(p, v.applied_at ? std::optional<isms::Date>(LondonDate(*v.applied_at))
                                : std::nullopt);
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
  char* p = w.Room(700 + J::Bound(o.clause) + J::Bound(o.key) + J::Bound(o.title) +
                   J::Bound(o.subject) + J::Bound(state) + J::Bound(consequence) +
                   J::Bound(o.consequence_text));
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

std::string Yes(bool b) {
  return b ? "yes" : "no";
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string MonthTitle(const MonthlyReport& r) {
  static const char* const kNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
  const unsigned m = static_cast<unsigned>(r.first_day.month());
  return std::string(kNames[(m + 11) % 12]) + " " +
         std::to_string(static_cast<int>(r.first_day.year()));
}

// Cuts `s` to at most `n` bytes at a character boundary, marking the cut with an ellipsis.
std::string Shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "\xE2\x80\xA6";
}

std::string DaysText(const std::optional<int>& n) {
  return n ? std::to_string(*n) : "-";
}

Data RowData(const ReportRow& v, bool patched) {
  Data d;
  d.set("finding", v.finding);
  d.set("category", v.category);
  d.set("asset", v.asset);
  d.set("vuln_id", v.vuln_id);
  std::string cves;
  for (const std::string& c : v.cves) cves += (cves.empty() ? "" : " ") + c;
  d.set("cves", cves);
  d.set("title", v.title);
  d.set("component", v.component);
  d.set("released", v.patch_released ? FormatDate(*v.patch_released) : "no patch released");
  d.set("assumed", v.patch_released_assumed);
  d.set("release_source", v.patch_release_source);
  d.set("applied", v.applied_at ? FormatDate(LondonDate(*v.applied_at)) : "");
  d.set("applied_at", v.applied_at ? FormatInstant(*v.applied_at) : "");
  d.set("applied_by", v.applied_by);
  d.set("elapsed", DaysText(v.elapsed_days));
  d.set("has_working_days", v.elapsed_working_days.has_value());
  d.set("working_days", DaysText(v.elapsed_working_days));
  d.set("due", v.due ? FormatDate(*v.due) : "-");
  d.set("exception", v.exception.empty() ? "-" : v.exception);
  std::string verdict, css;
  if (patched) {
    verdict = !v.within_timescale ? "no clock" : *v.within_timescale ? "within" : "late";
    css = v.within_timescale == false ? "bad" : "ok";
  } else {
    verdict = v.overdue ? "overdue" : v.clock_state.empty() ? "no clock" : v.clock_state;
    css = v.overdue ? "bad" : v.at_risk ? "warn" : "ok";
  }
  d.set("verdict", verdict);
  d.set("verdict_class", css);
  d.set("at_risk", v.at_risk);
  return d;
}

// The chart: one horizontal bar per outstanding vulnerability with a released patch and a due
// date, its length the days since release, a dashed line at its deadline (release to due).
constexpr size_t kChartRows = 60;
constexpr double kLabelWidth = 300, kBarWidth = 520, kRowHeight = 22, kTop = 34;

Data ChartData(const MonthlyReport& r) {
  std::vector<const ReportRow*> rows;
  int without = 0;
  for (const ReportRow& v : r.outstanding) {
    if (v.elapsed_days && v.deadline_days) {
      rows.push_back(&v);
    } else {
      ++without;
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ReportRow* a, const ReportRow* b) {
    return *a->elapsed_days - *a->deadline_days > *b->elapsed_days - *b->deadline_days;
  });
  const size_t total = rows.size();
  if (rows.size() > kChartRows) rows.resize(kChartRows);
  int max_days = 1;
  for (const ReportRow* v : rows)
    max_days = std::max({max_days, *v->elapsed_days, *v->deadline_days});
  int step = 1;
  for (int s : {1, 2, 5, 7, 10, 14, 30, 60, 90, 180, 365, 730}) {
    step = s;
    if (max_days / s <= 8) break;
  }
  const int scale_days = ((max_days + step - 1) / step) * step;
  const double px = kBarWidth / scale_days;
  Data d;
  d.set("show", !rows.empty());
  const double height = kTop + kRowHeight * static_cast<double>(rows.size()) + 30;
  d.set("width", Num(kLabelWidth + kBarWidth + 110));
  d.set("height", Num(height));
  d.set("axis_x", Num(kLabelWidth));
  d.set("axis_y2", Num(height - 26));
  d.set("legend_y", Num(height - 8));
  Data ticks{Data::type::list};
  for (int t = 0; t <= scale_days; t += step) {
    Data tick;
    tick.set("x", Num(kLabelWidth + t * px));
    tick.set("label", std::to_string(t));
    ticks.push_back(tick);
  }
  d.set("ticks", ticks);
  Data bars{Data::type::list};
  int overdue = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const ReportRow& v = *rows[i];
    const double y = kTop + kRowHeight * static_cast<double>(i);
    const int age = std::max(0, *v.elapsed_days);
    const int deadline = std::max(0, *v.deadline_days);
    if (v.overdue) ++overdue;
    Data b;
    b.set("label", Shorten(v.finding + " " + v.vuln_id + " on " + v.asset, 52));
    b.set("label_y", Num(y + 14));
    b.set("bar_y", Num(y + 3));
    b.set("bar_w", Num(std::max(1.0, age * px)));
    b.set("bar_class", v.overdue ? "bad" : v.at_risk ? "warn" : "ok");
    b.set("line_x", Num(kLabelWidth + deadline * px));
    b.set("line_y1", Num(y));
    b.set("line_y2", Num(y + kRowHeight));
    b.set("value_x", Num(kLabelWidth + std::max(age, deadline) * px + 6));
    b.set("value", std::to_string(*v.elapsed_days) + " d / " + std::to_string(deadline) + " d");
    b.set("tip", v.finding + " " + v.vuln_id + " (" + v.category + ") on " + v.asset + ": " +
                     std::to_string(*v.elapsed_days) + " days since the patch release " +
                     FormatDate(*v.patch_released) +
                     (v.patch_released_assumed ? " (assumed)" : "") + "; deadline " +
                     std::to_string(deadline) + " days, due " + FormatDate(*v.due) +
                     (v.overdue   ? "; overdue"
                      : v.at_risk ? "; at risk"
                                  : "; within"));
    bars.push_back(b);
  }
  d.set("bars", bars);
  std::string desc = std::to_string(total) +
                     " outstanding vulnerabilities with a released patch, by days since the "
                     "patch's public release (bar) against the 9.3 deadline (dashed line); " +
                     std::to_string(overdue) + " shown overdue.";
  if (total > rows.size()) {
    desc += " The " + std::to_string(rows.size()) +
            " furthest past or nearest their deadline "
            "are shown; the table lists all.";
  }
  if (without > 0) {
    desc += " " + std::to_string(without) +
            " outstanding without a released patch or without a running clock are not drawn.";
  }
  d.set("desc", desc);
  return d;
}

constexpr const char* kTemplate = R"html(<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="isms">
<title>Monthly vulnerability report {{month}} - {{contract}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#0b0c0c;background:#fff;margin:2rem auto;max-width:1180px;padding:0 1rem;line-height:1.4}
h1{font-size:1.7rem;margin:0 0 .3rem}
h2{font-size:1.25rem;border-bottom:3px solid #1d70b8;padding-bottom:.2rem;margin-top:2rem}
p.lede{margin-top:0;color:#505a5f}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1.2rem;margin:1rem 0}
dl.meta dt{font-weight:700}
dl.meta dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:.82rem;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:700;padding:.3rem 0}
th,td{border:1px solid #b1b4b6;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f2f1}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b10e1e;font-weight:700}
.warn{color:#8a4b00;font-weight:700}
.ok{color:#00703c}
.banner{border:3px solid #b10e1e;color:#b10e1e;padding:.5rem .8rem;font-weight:700}
.note{font-size:.85rem;color:#505a5f}
.assumed{font-style:italic}
figure{margin:0}
svg{max-width:100%;height:auto}
svg text{font-size:11px;fill:#0b0c0c}
svg .bar.ok{fill:#1d70b8}
svg .bar.warn{fill:#f47738}
svg .bar.bad{fill:#d4351c}
svg .deadline{stroke:#0b0c0c;stroke-width:2;stroke-dasharray:4 3}
svg .grid{stroke:#dcdcdc;stroke-width:1}
svg .axis{stroke:#0b0c0c;stroke-width:1}
@media print{
body{margin:0;max-width:none;font-size:9.5pt;color:#000}
h2{break-after:avoid;page-break-after:avoid}
tr,figure,svg{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
th{background:#eee !important;-webkit-print-color-adjust:exact;print-color-adjust:exact}
svg .bar{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.banner{border-width:2px}
}
@page{size:A4 landscape;margin:12mm}
</style>
</head>
<body>
<header>
{{^issued}}<p class="banner" role="note">PREVIEW - not issued. Only a report issued with <code>isms report issue</code> is recorded as delivered (9.5.5).{{^month_ended}} The Month has not ended.{{/month_ended}}</p>
{{/issued}}<h1>Monthly vulnerability report: {{month_title}}</h1>
<p class="lede">Security Schedule, Part B, paragraph 9.5.5: the vulnerabilities patched in the Month and those outstanding at the issue of this report, with the time elapsed since each patch's public release.</p>
<dl class="meta">
<dt>Contract</dt><dd>{{contract}}</dd>
<dt>Buyer</dt><dd>{{buyer}}</dd>
<dt>Supplier</dt><dd>{{supplier}}</dd>
<dt>Month</dt><dd>{{month}}: {{first_day}} to {{last_day}} (Europe/London)</dd>
{{#has_report_due}}<dt>Report due</dt><dd>{{report_due}} (9.5.5, under the policy in force on the Month's last day)</dd>
{{/has_report_due}}<dt>Issued</dt><dd><time datetime="{{issued_at}}">{{issued_at}}</time> ({{issued_date}}, London){{#issued}}, by {{issued_by}}{{/issued}}</dd>
</dl>
</header>
<main>
<section aria-labelledby="h-summary">
<h2 id="h-summary">Summary</h2>
<table>
<caption>Vulnerabilities by category (9.2)</caption>
<thead><tr><th scope="col">Category</th><th scope="col" class="num">Patched within timescale</th><th scope="col" class="num">Patched late</th><th scope="col" class="num">Outstanding within timescale</th><th scope="col" class="num">Outstanding overdue</th></tr></thead>
<tbody>
{{#totals}}<tr><th scope="row">{{category}}</th><td class="num">{{patched_within}}</td><td class="num">{{patched_late}}</td><td class="num">{{outstanding_within}}</td><td class="num">{{outstanding_overdue}}</td></tr>
{{/totals}}</tbody>
</table>
</section>
<section aria-labelledby="h-timescales">
<h2 id="h-timescales">Timescales (9.3)</h2>
<table>
<thead><tr><th scope="col">Clause</th><th scope="col">Category</th><th scope="col">What</th><th scope="col">Timescale</th><th scope="col">Source</th></tr></thead>
<tbody>
{{#timescales}}<tr><td>{{clause}}</td><td>{{category}}</td><td>{{title}}</td><td>{{timescale}}{{#has_wording}} ({{wording}}){{/has_wording}}</td><td>{{source}}{{#has_reference}}: {{reference}}{{/has_reference}}</td></tr>
{{/timescales}}</tbody>
</table>
<p class="note">Source: <em>contract</em> = the period written in the schedule; <em>policy-default</em> = the product's reading of the schedule's words; <em>varied</em> = a period agreed with the Buyer. Policy in force at the issue.</p>
</section>
<section aria-labelledby="h-patched">
<h2 id="h-patched">Patched in {{month_title}} ({{patched_count}})</h2>
{{#has_patched}}<table>
<thead><tr><th scope="col">Finding</th><th scope="col">Category</th><th scope="col">Asset</th><th scope="col">Vulnerability</th><th scope="col">Patch released</th><th scope="col">Applied</th><th scope="col" class="num">Elapsed days</th><th scope="col" class="num">Working Days</th><th scope="col">Due</th><th scope="col">Timescale</th><th scope="col">Exception in force</th></tr></thead>
<tbody>
{{#patched}}<tr><td>{{finding}}</td><td>{{category}}</td><td>{{asset}}</td><td>{{vuln_id}}<br><span class="note">{{title}}</span></td><td{{#assumed}} class="assumed"{{/assumed}}>{{released}}{{#assumed}} (assumed){{/assumed}}</td><td><time datetime="{{applied_at}}">{{applied}}</time><br><span class="note">{{applied_by}}</span></td><td class="num">{{elapsed}}</td><td class="num">{{#has_working_days}}{{working_days}}{{/has_working_days}}</td><td>{{due}}</td><td class="{{verdict_class}}">{{verdict}}</td><td>{{exception}}</td></tr>
{{/patched}}</tbody>
</table>
{{/has_patched}}{{^has_patched}}<p>No vulnerability was patched in the Month.</p>
{{/has_patched}}</section>
<section aria-labelledby="h-outstanding">
<h2 id="h-outstanding">Outstanding at issue ({{outstanding_count}})</h2>
{{#chart.show}}<figure>
<svg xmlns="http://www.w3.org/2000/svg" width="{{chart.width}}" height="{{chart.height}}" viewBox="0 0 {{chart.width}} {{chart.height}}" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">Outstanding vulnerabilities: days since patch release against the 9.3 deadline</title>
<desc id="chart-desc">{{chart.desc}}</desc>
<text x="{{chart.axis_x}}" y="12">days since the patch's public release</text>
{{#chart.ticks}}<line class="grid" x1="{{x}}" y1="20" x2="{{x}}" y2="{{chart.axis_y2}}"/><text x="{{x}}" y="30" text-anchor="middle">{{label}}</text>
{{/chart.ticks}}<line class="axis" x1="{{chart.axis_x}}" y1="20" x2="{{chart.axis_x}}" y2="{{chart.axis_y2}}"/>
{{#chart.bars}}<g><title>{{tip}}</title><text x="{{chart.label_x}}" y="{{label_y}}" text-anchor="end">{{label}}</text><rect class="bar {{bar_class}}" x="{{chart.axis_x}}" y="{{bar_y}}" width="{{bar_w}}" height="14"/><line class="deadline" x1="{{line_x}}" y1="{{line_y1}}" x2="{{line_x}}" y2="{{line_y2}}"/><text x="{{value_x}}" y="{{label_y}}">{{value}}</text></g>
{{/chart.bars}}<g transform="translate({{chart.axis_x}},{{chart.legend_y}})"><rect class="bar ok" x="0" y="-9" width="12" height="10"/><text x="16" y="0">within</text><rect class="bar warn" x="70" y="-9" width="12" height="10"/><text x="86" y="0">at risk</text><rect class="bar bad" x="140" y="-9" width="12" height="10"/><text x="156" y="0">overdue</text><line class="deadline" x1="224" y1="-10" x2="224" y2="2"/><text x="230" y="0">deadline (9.3)</text></g>
</svg>
<figcaption class="note">{{chart.desc}}</figcaption>
</figure>
{{/chart.show}}{{#has_outstanding}}<table>
<thead><tr><th scope="col">Finding</th><th scope="col">Category</th><th scope="col">Asset</th><th scope="col">Vulnerability</th><th scope="col">Patch released</th><th scope="col" class="num">Elapsed days</th><th scope="col" class="num">Working Days</th><th scope="col">Due</th><th scope="col">Clock</th><th scope="col">At risk</th><th scope="col">Exception in force</th></tr></thead>
<tbody>
{{#outstanding}}<tr><td>{{finding}}</td><td>{{category}}</td><td>{{asset}}</td><td>{{vuln_id}}<br><span class="note">{{title}}</span></td><td{{#assumed}} class="assumed"{{/assumed}}>{{released}}{{#assumed}} (assumed){{/assumed}}</td><td class="num">{{elapsed}}</td><td class="num">{{#has_working_days}}{{working_days}}{{/has_working_days}}</td><td>{{due}}</td><td class="{{verdict_class}}">{{verdict}}</td><td>{{#at_risk}}<span class="warn">at risk</span>{{/at_risk}}</td><td>{{exception}}</td></tr>
{{/outstanding}}</tbody>
</table>
{{/has_outstanding}}{{^has_outstanding}}<p>No vulnerability was outstanding at the issue.</p>
{{/has_outstanding}}</section>
<section aria-labelledby="h-breached">
<h2 id="h-breached">Obligations breached ({{breached_count}})</h2>
{{#has_breached}}<table>
<thead><tr><th scope="col">Clause</th><th scope="col">Obligation</th><th scope="col">Subject</th><th scope="col">Due</th><th scope="col">Consequence</th></tr></thead>
<tbody>
{{#breached}}<tr><td>{{clause}}</td><td>{{title}}</td><td>{{subject}}</td><td>{{due}}</td><td class="bad">{{consequence}}</td></tr>
{{/breached}}</tbody>
</table>
{{/has_breached}}{{^has_breached}}<p>No obligation was breached at the issue.</p>
{{/has_breached}}</section>
<section aria-labelledby="h-notes">
<h2 id="h-notes">Notes</h2>
<ul class="note">
{{#caveats}}<li>{{text}}</li>
{{/caveats}}<li>Not in this report: {{observations}} scanner observations, {{own_code}} findings in the Supplier's own code, {{not_affected}} findings stated not affected (VEX/CSAF), {{patched_after_month}} vulnerabilities patched after the Month but before the issue (they belong to the next Month's report).</li>
<li>Elapsed days are calendar days from the patch's public release date to the London date of its application, or of this report's issue; Working Days (England and Wales) are also given for 'Other', whose timescale is counted in them.</li>
</ul>
</section>
</main>
<footer class="note"><p>Produced by isms from the contract's ledger as of {{issued_at}}.{{#issued}} The JSON form of this report is the record: its sha256 is in the ledger event report.submitted.{{/issued}}</p></footer>
</body>
</html>
)html";

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
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string CsvTextCell(std::string_view value) {
  std::string s;
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                         value[0] == '\t' || value[0] == '\r')) {
    s += '\'';
  }
  s += value;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

std::string RenderReportJson(const MonthlyReport& r) {
  std::string out;
  // About 1 KB per row and 400 bytes per obligation: one allocation for most reports.
  out.reserve(4096 + 1100 * (r.patched.size() + r.outstanding.size()) + 450 * r.breached.size());
  (void)WriteReportJson(r, [&](std::string_view bytes) {
    out.append(bytes);
    return Status::Ok();
  });
  return out;
}

Status WriteReportJson(const MonthlyReport& r,
                       const std::function<Status(std::string_view)>& sink) {
  return internal::WriteReportJsonInPieces(r, 2048, 0, sink);
}

namespace internal {

namespace {

// The document `head` (JsonHead) with its three arrays, of `sizes` elements, in place of its
// markers; `render(w, array, i)` writes element i of array 0 (patched), 1 (outstanding) or 2
// (breached). Pieces of `rows_per_piece` elements are rendered on `threads` worker threads.
template <typename Render>
Status WritePieces(const std::string& head, const std::array<size_t, 3>& sizes,
                   const Render& render_element, size_t rows_per_piece, int threads,
                   const std::function<Status(std::string_view)>& sink) {
  // The output in order: text of the head, and the pieces of the arrays in place of markers.
  struct Part {
    std::string_view text;
    int array = -1;  // else a piece of array 0 (patched), 1 (outstanding) or 2 (breached)
    size_t begin = 0, end = 0;
  };
  const char* const markers[] = {"patched", "outstanding", "breached"};
  std::vector<Part> parts;
  size_t from = 0;
  for (int a = 0; a < 3; ++a) {
    const std::string quoted = std::string("\"\\u0001") + markers[a] + "\"";
    const size_t at = head.find(quoted, from);
    parts.push_back({std::string_view(head).substr(from, at - from)});
    if (sizes[a] == 0) parts.push_back({"[]"});
    for (size_t b = 0; b < sizes[a]; b += rows_per_piece) {
      parts.push_back({{}, a, b, std::min(sizes[a], b + rows_per_piece)});
    }
    from = at + quoted.size();
  }
  parts.push_back({std::string_view(head).substr(from)});

  auto render = [&](const Part& p, Piece& out) {
    out.used = 0;
    JsonWriter w(out);
    for (size_t i = p.begin; i < p.end; ++i) {
      w.Append(i == 0 ? std::string_view("[\n    ") : std::string_view(",\n    "));
      render_element(w, p.array, i);
    }
    if (p.end == sizes[p.array]) w.Append("\n  ]");
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
        ISMS_RETURN_IF_ERROR(sink(p.text));
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
      status = sink(p.text);
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

}  // namespace

Status WriteReportJsonInPieces(const MonthlyReport& r, size_t rows_per_piece, int threads,
                               const std::function<Status(std::string_view)>& sink) {
  return WritePieces(
      JsonHead(r), {r.patched.size(), r.outstanding.size(), r.breached.size()},
      [&](JsonWriter& w, int array, size_t i) {
        if (array == 2) return WriteObligation(w, r.breached[i]);
        WriteRow(w, array == 0 ? r.patched[i] : r.outstanding[i], array == 0);
      },
      rows_per_piece, threads, sink);
}

Status WriteCompactReportJson(const MonthlyReport& r, const CompactRows& rows,
                              size_t rows_per_piece, int threads,
                              const std::function<Status(std::string_view)>& sink) {
  return WritePieces(
      JsonHead(r), {rows.patched.size(), rows.outstanding.size(), rows.breached.size()},
      [&](JsonWriter& w, int array, size_t i) {
        if (array == 2) return WriteObligation(w, *rows.breached[i]);
        WriteRow(w, array == 0 ? *rows.patched[i] : *rows.outstanding[i], array == 0);
      },
      rows_per_piece, threads, sink);
}

}  // namespace internal

std::string RenderReportCsv(const MonthlyReport& r) {
  static const char* const kColumns[] = {"section",
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
  std::string out;
  for (size_t i = 0; i < std::size(kColumns); ++i) {
    if (i > 0) out += ',';
    out += kColumns[i];
  }
  out += "\r\n";
  auto row = [&](const ReportRow& v, bool patched) {
    std::string cves;
    for (const std::string& c : v.cves) cves += (cves.empty() ? "" : " ") + c;
    auto opt_int = [](const std::optional<int>& n) { return n ? std::to_string(*n) : ""; };
    const std::vector<std::string> cells = {
        patched ? "patched" : "outstanding",
        CsvTextCell(v.finding),
        CsvTextCell(v.category),
        CsvTextCell(v.asset),
        CsvTextCell(v.vuln_id),
        CsvTextCell(cves),
        CsvTextCell(v.title),
        CsvTextCell(v.component),
        v.patch_released ? FormatDate(*v.patch_released) : "",
        Yes(v.patch_released_assumed),
        CsvTextCell(v.patch_release_source),
        v.applied_at ? FormatInstant(*v.applied_at) : "",
        CsvTextCell(v.applied_by),
        opt_int(v.elapsed_days),
        opt_int(v.elapsed_working_days),
        v.due ? FormatDate(*v.due) : "",
        CsvTextCell(v.clock_state),
        patched && v.within_timescale ? Yes(*v.within_timescale) : "",
        patched ? "" : Yes(v.overdue),
        patched ? "" : Yes(v.at_risk),
        CsvTextCell(v.exception)};
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += cells[i];
    }
    out += "\r\n";
  };
  for (const ReportRow& v : r.patched) row(v, true);
  for (const ReportRow& v : r.outstanding) row(v, false);
  return out;
}

Result<std::string> RenderReportHtml(const MonthlyReport& r) {
  Data d;
  d.set("contract", r.contract);
  d.set("buyer", r.buyer.empty() ? "(not recorded)" : r.buyer);
  d.set("supplier", r.supplier.empty() ? "(not recorded)" : r.supplier);
  d.set("month", r.month);
  d.set("month_title", MonthTitle(r));
  d.set("first_day", FormatDate(r.first_day));
  d.set("last_day", FormatDate(r.last_day));
  d.set("has_report_due", r.report_due.has_value());
  d.set("report_due", r.report_due ? FormatDate(*r.report_due) : "");
  d.set("issued", r.issued);
  d.set("issued_at", FormatInstant(r.issued_at));
  d.set("issued_date", FormatDate(LondonDate(r.issued_at)));
  d.set("issued_by", r.issued_by);
  d.set("month_ended", r.month_ended);
  Data totals{Data::type::list};
  for (const CategoryTotals& t : r.totals) {
    Data row;
    row.set("category", t.category == "all" ? "All" : t.category);
    row.set("patched_within", std::to_string(t.patched_within));
    row.set("patched_late", std::to_string(t.patched_late));
    row.set("outstanding_within", std::to_string(t.outstanding_within));
    row.set("outstanding_overdue", std::to_string(t.outstanding_overdue));
    totals.push_back(row);
  }
  d.set("totals", totals);
  Data timescales{Data::type::list};
  for (const ReportTimescale& t : r.timescales) {
    Data row;
    row.set("clause", t.clause);
    row.set("category", t.category);
    row.set("title", t.title);
    row.set("timescale", t.timescale);
    row.set("wording", t.wording);
    row.set("has_wording", !t.wording.empty());
    row.set("source", t.source);
    row.set("reference", t.reference);
    row.set("has_reference", !t.reference.empty());
    timescales.push_back(row);
  }
  d.set("timescales", timescales);
  Data patched{Data::type::list};
  for (const ReportRow& v : r.patched) patched.push_back(RowData(v, true));
  d.set("patched", patched);
  d.set("has_patched", !r.patched.empty());
  d.set("patched_count", std::to_string(r.patched.size()));
  Data outstanding{Data::type::list};
  for (const ReportRow& v : r.outstanding) outstanding.push_back(RowData(v, false));
  d.set("outstanding", outstanding);
  d.set("has_outstanding", !r.outstanding.empty());
  d.set("outstanding_count", std::to_string(r.outstanding.size()));
  Data chart = ChartData(r);
  chart.set("label_x", Num(kLabelWidth - 8));
  d.set("chart", chart);
  Data breached{Data::type::list};
  for (const Obligation& o : r.breached) {
    Data row;
    row.set("clause", o.clause);
    row.set("title", o.title);
    row.set("subject", o.subject.empty() ? "-" : o.subject);
    row.set("due", o.due_date ? FormatDate(*o.due_date)
                   : o.due_at ? FormatInstant(*o.due_at)
                              : std::string("-"));
    row.set("consequence", o.consequence_text.empty() ? std::string(ConsequenceName(o.consequence))
                                                      : o.consequence_text);
    breached.push_back(row);
  }
  d.set("breached", breached);
  d.set("has_breached", !r.breached.empty());
  d.set("breached_count", std::to_string(r.breached.size()));
  Data caveats{Data::type::list};
  for (const std::string& c : r.caveats) {
    Data row;
    row.set("text", c);
    caveats.push_back(row);
  }
  d.set("caveats", caveats);
  d.set("observations", std::to_string(r.observations));
  d.set("own_code", std::to_string(r.own_code));
  d.set("not_affected", std::to_string(r.not_affected));
  d.set("patched_after_month", std::to_string(r.patched_after_month));
  try {
    kainjow::mustache::mustache tmpl{std::string(kTemplate)};
    if (!tmpl.is_valid()) {
      return Status::Internal("the report's HTML template is invalid: " + tmpl.error_message());
    }
    std::string html = tmpl.render(d);
    if (!tmpl.error_message().empty()) {
      return Status::Internal("rendering the report's HTML failed: " + tmpl.error_message());
    }
    return html;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("rendering the report's HTML failed: ") + e.what());
  }
}

}  // namespace isms::app
