// The HTML rendering of the monthly report: a standalone printable document from a mustache
// template (kainjow mustache: every {{value}} is HTML-escaped; the template uses no triple
// mustache). A long report is written in pieces: the template without its three row sections
// (patched, outstanding, breached) is rendered by mustache with the totals and the chart, and the
// rows, in its place, by a compiled form of those sections on worker threads. A test holds the
// two to the template rendered whole (RenderReportHtmlFromTemplate). Fields: docs/reports.md.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <kainjow/mustache.hpp>
#include <random>
#include <type_traits>

#include "app/report.h"
#include "app/report_internal.h"

namespace isms::app::internal {
namespace {

using Data = kainjow::mustache::data;

std::string Str(std::string_view s) {
  return std::string(s);
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

std::string DaysString(const std::optional<int>& n) {
  return n ? std::to_string(*n) : "-";
}

// A row of the patched or outstanding table for the template rendered whole.
Data RowData(const ReportRow& v, bool patched) {
  Data d;
  d.set("finding", v.finding);
  d.set("category", v.category);
  d.set("asset", v.asset);
  d.set("vuln_id", v.vuln_id);
  d.set("title", v.title);
  d.set("component", v.component);
  d.set("released", v.patch_released ? FormatDate(*v.patch_released) : "no patch released");
  d.set("assumed", v.patch_released_assumed);
  d.set("release_source", v.patch_release_source);
  d.set("applied", v.applied_at ? FormatDate(LondonDate(*v.applied_at)) : "");
  d.set("applied_at", v.applied_at ? FormatInstant(*v.applied_at) : "");
  d.set("applied_by", v.applied_by);
  d.set("elapsed", DaysString(v.elapsed_days));
  d.set("has_working_days", v.elapsed_working_days.has_value());
  d.set("working_days", DaysString(v.elapsed_working_days));
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

template <typename Rows>  // of ReportRow or of const CompactRow*
Data ChartData(const Rows& outstanding) {
  using Row = std::remove_cvref_t<decltype(Deref(outstanding[0]))>;
  // The rows drawn: those furthest past (or nearest) their deadline, in report order among
  // equals (a stable sort's order, found without sorting them all).
  std::vector<std::pair<int, size_t>> drawn;  // (days past the deadline, index)
  int without = 0;
  for (size_t i = 0; i < outstanding.size(); ++i) {
    const Row& v = Deref(outstanding[i]);
    if (v.elapsed_days && v.deadline_days) {
      drawn.emplace_back(*v.elapsed_days - *v.deadline_days, i);
    } else {
      ++without;
    }
  }
  const size_t total = drawn.size();
  auto before = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  const size_t shown = std::min(total, kChartRows);
  std::partial_sort(drawn.begin(), drawn.begin() + static_cast<std::ptrdiff_t>(shown), drawn.end(),
                    before);
  std::vector<const Row*> rows;
  for (size_t i = 0; i < shown; ++i) rows.push_back(&Deref(outstanding[drawn[i].second]));
  int max_days = 1;
  for (const Row* v : rows) max_days = std::max({max_days, *v->elapsed_days, *v->deadline_days});
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
    const Row& v = *rows[i];
    const double y = kTop + kRowHeight * static_cast<double>(i);
    const int age = std::max(0, *v.elapsed_days);
    const int deadline = std::max(0, *v.deadline_days);
    if (v.overdue) ++overdue;
    Data b;
    b.set("label", Shorten(Str(v.finding) + " " + Str(v.vuln_id) + " on " + Str(v.asset), 52));
    b.set("label_y", Num(y + 14));
    b.set("bar_y", Num(y + 3));
    b.set("bar_w", Num(std::max(1.0, age * px)));
    b.set("bar_class", v.overdue ? "bad" : v.at_risk ? "warn" : "ok");
    b.set("line_x", Num(kLabelWidth + deadline * px));
    b.set("line_y1", Num(y));
    b.set("line_y2", Num(y + kRowHeight));
    b.set("value_x", Num(kLabelWidth + std::max(age, deadline) * px + 6));
    b.set("value", std::to_string(*v.elapsed_days) + " d / " + std::to_string(deadline) + " d");
    b.set("tip", Str(v.finding) + " " + Str(v.vuln_id) + " (" + Str(v.category) + ") on " +
                     Str(v.asset) + ": " + std::to_string(*v.elapsed_days) +
                     " days since the patch release " + FormatDate(*v.patch_released) +
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
pre.checkpoint{white-space:pre-wrap;word-break:break-all;background:#f3f2f1;padding:.6rem;font-size:.85rem}
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
{{#has_audit}}<section aria-labelledby="h-audit">
<h2 id="h-audit">Audit log: the latest signed checkpoint</h2>
{{#has_checkpoint}}<p>The contract's tamper-evident audit log (Annex 1 8.1) as of the issue, signed by the Supplier's isms. Keep it: at any later time, <code>isms audit verify --against FILE</code> proves that the log still extends it, so that no record before it was changed or removed.</p>
<pre class="checkpoint">{{checkpoint}}</pre>
{{#verifier_key}}<p>Verifier key of its signature: <code>{{verifier_key}}</code></p>{{/verifier_key}}{{/has_checkpoint}}
{{^has_checkpoint}}<p>{{audit_note}}</p>{{/has_checkpoint}}
{{#has_rotations}}<p>The signing key was replaced (each rotation has a transition note signed by both keys, for <code>isms audit verify-transition</code>):</p>
<ul>{{#rotations}}<li>{{text}}</li>
{{/rotations}}</ul>{{/has_rotations}}
</section>
{{/has_audit}}<section aria-labelledby="h-notes">
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

// The values of the template's fields that are not rows: all but its three row sections, with
// `rows` counted and the chart drawn from `outstanding`.
template <typename Outstanding>
Data FrameData(const MonthlyReport& r, size_t patched, const Outstanding& outstanding,
               size_t breached) {
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
  d.set("has_patched", patched > 0);
  d.set("patched_count", std::to_string(patched));
  d.set("has_outstanding", !outstanding.empty());
  d.set("outstanding_count", std::to_string(outstanding.size()));
  Data chart = ChartData(outstanding);
  chart.set("label_x", Num(kLabelWidth - 8));
  d.set("chart", chart);
  d.set("has_breached", breached > 0);
  d.set("breached_count", std::to_string(breached));
  Data caveats{Data::type::list};
  for (const std::string& c : r.caveats) {
    Data row;
    row.set("text", c);
    caveats.push_back(row);
  }
  d.set("caveats", caveats);
  const bool has_checkpoint = !r.audit.checkpoint.empty();
  d.set("has_audit", has_checkpoint || !r.audit.note.empty());
  d.set("has_checkpoint", has_checkpoint);
  d.set("checkpoint", r.audit.checkpoint);
  if (!r.audit.verifier_key.empty()) d.set("verifier_key", r.audit.verifier_key);
  d.set("audit_note", r.audit.note);
  Data rotations{Data::type::list};
  for (const std::string& k : r.audit.key_rotations) {
    Data row;
    row.set("text", k);
    rotations.push_back(row);
  }
  d.set("rotations", rotations);
  d.set("has_rotations", !r.audit.key_rotations.empty());
  d.set("observations", std::to_string(r.observations));
  d.set("own_code", std::to_string(r.own_code));
  d.set("not_affected", std::to_string(r.not_affected));
  d.set("patched_after_month", std::to_string(r.patched_after_month));
  return d;
}

Result<std::string> RenderTemplate(const std::string& text, const Data& d) {
  try {
    kainjow::mustache::mustache tmpl{text};
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

// The three row sections of the template: their names, in the document's order.
constexpr const char* kRowSections[] = {"patched", "outstanding", "breached"};

// The fields of a row section's tags: a row's (patched, outstanding) or an obligation's.
enum RowField {
  kFinding,
  kCategory,
  kAsset,
  kVulnId,
  kTitle,
  kComponent,
  kReleased,
  kReleaseSource,
  kApplied,
  kAppliedAt,
  kAppliedBy,
  kElapsed,
  kWorkingDays,
  kDue,
  kException,
  kVerdict,
  kVerdictClass,
  kAssumed,
  kHasWorkingDays,
  kAtRisk,  // the flags: sections
  kRowFields
};
constexpr std::array<const char*, kRowFields> kRowFieldNames = {"finding",
                                                                "category",
                                                                "asset",
                                                                "vuln_id",
                                                                "title",
                                                                "component",
                                                                "released",
                                                                "release_source",
                                                                "applied",
                                                                "applied_at",
                                                                "applied_by",
                                                                "elapsed",
                                                                "working_days",
                                                                "due",
                                                                "exception",
                                                                "verdict",
                                                                "verdict_class",
                                                                "assumed",
                                                                "has_working_days",
                                                                "at_risk"};
constexpr int kFirstRowFlag = kAssumed;

enum ObligationField {
  kClause,
  kObligationTitle,
  kSubject,
  kObligationDue,
  kConsequence,
  kObligationFields
};
constexpr std::array<const char*, kObligationFields> kObligationFieldNames = {
    "clause", "title", "subject", "due", "consequence"};

// A row section compiled: text, escaped fields, and sections on flags (a section's `end` is the
// index of the step after it).
struct Step {
  enum Kind { kText, kField, kIf, kIfNot } kind = kText;
  std::string_view text;
  int field = 0;
  size_t end = 0;
};

// Compiles `body` (the inside of a row section, which lives as long as the template) against
// `names`, those from `first_flag` on being flags. Anything else in it (a partial, an unescaped
// or unknown field, a section on a text) is refused: the template and the compiled form must
// agree, and a test holds them to it.
Result<std::vector<Step>> Compile(std::string_view body, std::span<const char* const> names,
                                  int first_flag) {
  std::vector<Step> steps;
  std::vector<size_t> open;
  auto refuse = [&](std::string_view tag, const char* why) {
    return Status::Internal("the report's HTML template: tag {{" + std::string(tag) +
                            "}} in a row section " + why);
  };
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t at = body.find("{{", pos);
    if (at != pos) {
      steps.push_back(
          {Step::kText, body.substr(pos, at == std::string_view::npos ? body.npos : at - pos)});
    }
    if (at == std::string_view::npos) break;
    const size_t close = body.find("}}", at + 2);
    if (close == std::string_view::npos) return refuse(body.substr(at), "is not closed");
    const std::string_view tag = body.substr(at + 2, close - at - 2);
    pos = close + 2;
    if (tag.empty()) return refuse(tag, "is empty");
    const char sigil = tag[0];
    const std::string_view name =
        (sigil == '#' || sigil == '^' || sigil == '/') ? tag.substr(1) : tag;
    if (sigil == '!') continue;
    int field = -1;
    for (size_t i = 0; i < names.size(); ++i) {
      if (name == names[i]) field = static_cast<int>(i);
    }
    if (field < 0) return refuse(tag, "names no field of a row");
    if (sigil == '/') {
      if (open.empty() || steps[open.back()].field != field) return refuse(tag, "closes nothing");
      steps[open.back()].end = steps.size();
      open.pop_back();
    } else if (sigil == '#' || sigil == '^') {
      if (field < first_flag) return refuse(tag, "is a section on a text");
      open.push_back(steps.size());
      steps.push_back({sigil == '#' ? Step::kIf : Step::kIfNot, {}, field});
    } else {
      if (field >= first_flag) return refuse(tag, "shows a flag");
      steps.push_back({Step::kField, {}, field});
    }
  }
  if (!open.empty()) return Status::Internal("the report's HTML template: a row section is open");
  return steps;
}

// `s` HTML-escaped as kainjow mustache escapes it (& < > " '), at p (at most 6 bytes a byte).
char* Escaped(char* p, std::string_view s) {
  static constexpr auto kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = 0; c < 256; ++c) plain[static_cast<size_t>(c)] = true;
    for (unsigned char c : std::string_view("&<>\"'")) plain[c] = false;
    return plain;
  }();
  size_t i = 0;
  while (true) {
    // The run of bytes that need no escaping, copied at once.
    size_t j = i;
    while (j < s.size() && kPlain[static_cast<unsigned char>(s[j])]) ++j;
    if (j > i) p = PieceWriter::Copy(p, s.substr(i, j - i));
    if (j == s.size()) return p;
    i = j + 1;
    switch (s[j]) {
      case '&': p = PieceWriter::Lit(p, "&amp;"); break;
      case '<': p = PieceWriter::Lit(p, "&lt;"); break;
      case '>': p = PieceWriter::Lit(p, "&gt;"); break;
      case '"': p = PieceWriter::Lit(p, "&quot;"); break;
      default: p = PieceWriter::Lit(p, "&apos;"); break;
    }
  }
}

// Runs `steps` with the fields' texts and flags, appending to `out`.
void Run(const std::vector<Step>& steps, std::span<const std::string_view> texts,
         std::span<const bool> flags, Piece& out) {
  size_t bound = 0;
  for (const Step& s : steps) {
    bound += s.kind == Step::kText    ? s.text.size()
             : s.kind == Step::kField ? 6 * texts[static_cast<size_t>(s.field)].size()
                                      : 0;
  }
  PieceWriter w(out);
  char* p = w.Room(bound);
  for (size_t i = 0; i < steps.size();) {
    const Step& s = steps[i];
    switch (s.kind) {
      case Step::kText: p = PieceWriter::Copy(p, s.text); break;
      case Step::kField: p = Escaped(p, texts[static_cast<size_t>(s.field)]); break;
      case Step::kIf:
      case Step::kIfNot:
        if (flags[static_cast<size_t>(s.field)] != (s.kind == Step::kIf)) {
          i = s.end;
          continue;
        }
        break;
    }
    ++i;
  }
  w.Done(p);
}

// The template split for writing in pieces: the frame (the template with a marker field in place
// of each row section) and the row sections compiled.
struct SplitTemplate {
  std::string frame;
  std::array<std::vector<Step>, 3> rows;  // patched, outstanding, breached
};

Result<SplitTemplate> Split() {
  SplitTemplate t;
  const std::string_view whole = kTemplate;
  size_t from = 0;
  for (int k = 0; k < 3; ++k) {
    const std::string open = std::string("{{#") + kRowSections[k] + "}}";
    const std::string close = std::string("{{/") + kRowSections[k] + "}}";
    const size_t a = whole.find(open, from);
    const size_t b = a == whole.npos ? a : whole.find(close, a);
    if (b == whole.npos) {
      return Status::Internal(std::string("the report's HTML template has no section ") +
                              kRowSections[k]);
    }
    t.frame.append(whole.substr(from, a - from));
    t.frame += std::string("{{rows_") + kRowSections[k] + "}}";
    const std::string_view body = whole.substr(a + open.size(), b - a - open.size());
    ISMS_ASSIGN_OR_RETURN(t.rows[static_cast<size_t>(k)],
                          k < 2 ? Compile(body, kRowFieldNames, kFirstRowFlag)
                                : Compile(body, kObligationFieldNames, kObligationFields));
    from = b + close.size();
  }
  t.frame.append(whole.substr(from));
  return t;
}

const Result<SplitTemplate>& TheSplitTemplate() {
  static const Result<SplitTemplate> t = Split();
  return t;
}

// "-" or the number, at p.
char* DaysText(char* p, const std::optional<int>& n) {
  if (!n) {
    *p++ = '-';
    return p;
  }
  return std::to_chars(p, p + 16, *n).ptr;
}

// One row of the patched or outstanding table, as the template's row section writes it.
template <typename Row>  // ReportRow or CompactRow
void WriteHtmlRow(const std::vector<Step>& steps, const Row& v, bool patched, Piece& out) {
  std::array<std::string_view, kRowFields> t{};
  std::array<bool, kRowFields> flags{};
  char buf[256];  // the dates and numbers
  char* p = buf;
  auto put = [&](RowField f, char* start) {
    t[f] = std::string_view(start, static_cast<size_t>(p - start));
  };
  t[kFinding] = v.finding;
  t[kCategory] = v.category;
  t[kAsset] = v.asset;
  t[kVulnId] = v.vuln_id;
  t[kTitle] = v.title;
  t[kComponent] = v.component;
  if (v.patch_released) {
    char* s = p;
    p = PieceWriter::DateText(p, *v.patch_released);
    put(kReleased, s);
  } else {
    t[kReleased] = "no patch released";
  }
  flags[kAssumed] = v.patch_released_assumed;
  t[kReleaseSource] = v.patch_release_source;
  if (v.applied_at) {
    char* s = p;
    p = PieceWriter::DateText(p, LondonDate(*v.applied_at));
    put(kApplied, s);
    s = p;
    p = PieceWriter::InstantText(p, *v.applied_at);
    put(kAppliedAt, s);
  }
  t[kAppliedBy] = v.applied_by;
  {
    char* s = p;
    p = DaysText(p, v.elapsed_days);
    put(kElapsed, s);
    s = p;
    p = DaysText(p, v.elapsed_working_days);
    put(kWorkingDays, s);
  }
  flags[kHasWorkingDays] = v.elapsed_working_days.has_value();
  if (v.due) {
    char* s = p;
    p = PieceWriter::DateText(p, *v.due);
    put(kDue, s);
  } else {
    t[kDue] = "-";
  }
  t[kException] = v.exception.empty() ? std::string_view("-") : std::string_view(v.exception);
  if (patched) {
    t[kVerdict] = !v.within_timescale ? "no clock" : *v.within_timescale ? "within" : "late";
    t[kVerdictClass] = v.within_timescale == false ? "bad" : "ok";
  } else {
    t[kVerdict] = v.overdue               ? std::string_view("overdue")
                  : v.clock_state.empty() ? std::string_view("no clock")
                                          : std::string_view(v.clock_state);
    t[kVerdictClass] = v.overdue ? "bad" : v.at_risk ? "warn" : "ok";
  }
  flags[kAtRisk] = v.at_risk;
  Run(steps, t, flags, out);
}

// One row of the obligations breached, as the template's row section writes it.
template <typename O>  // Obligation or CompactObligation
void WriteHtmlObligation(const std::vector<Step>& steps, const O& o, Piece& out) {
  std::array<std::string_view, kObligationFields> t{};
  char buf[128];
  t[kClause] = o.clause;
  t[kObligationTitle] = o.title;
  t[kSubject] = o.subject.empty() ? std::string_view("-") : std::string_view(o.subject);
  if (o.due_date) {
    t[kObligationDue] =
        std::string_view(buf, static_cast<size_t>(PieceWriter::DateText(buf, *o.due_date) - buf));
  } else if (o.due_at) {
    t[kObligationDue] =
        std::string_view(buf, static_cast<size_t>(PieceWriter::InstantText(buf, *o.due_at) - buf));
  } else {
    t[kObligationDue] = "-";
  }
  t[kConsequence] = o.consequence_text.empty() ? ConsequenceName(o.consequence)
                                               : std::string_view(o.consequence_text);
  Run(steps, t, {}, out);
}

template <typename Patched, typename Outstanding, typename Breached>
Status HtmlInPieces(const MonthlyReport& r, const Patched& patched, const Outstanding& outstanding,
                    const Breached& breached, size_t rows_per_piece, int threads,
                    const std::function<Status(std::string_view)>& sink) {
  const Result<SplitTemplate>& split = TheSplitTemplate();
  ISMS_RETURN_IF_ERROR(split.status());
  Data d = FrameData(r, patched.size(), outstanding, breached.size());
  // Markers no value can hold by chance: the rows go where they are found.
  std::random_device random;
  const std::string nonce = std::to_string(random()) + "." + std::to_string(random());
  std::vector<std::string> markers;
  for (const char* s : kRowSections) {
    markers.push_back("\x01rows:" + std::string(s) + ":" + nonce + "\x01");
    d.set(std::string("rows_") + s, markers.back());
  }
  ISMS_ASSIGN_OR_RETURN(std::string frame, RenderTemplate(split->frame, d));
  return WritePieces(
      frame, markers, {{patched.size()}, {outstanding.size()}, {breached.size()}},
      [&](Piece& out, int array, size_t i) {
        const auto& steps = split->rows[static_cast<size_t>(array)];
        if (array == 0) return WriteHtmlRow(steps, Deref(patched[i]), true, out);
        if (array == 1) return WriteHtmlRow(steps, Deref(outstanding[i]), false, out);
        WriteHtmlObligation(steps, Deref(breached[i]), out);
      },
      rows_per_piece, threads, sink);
}

}  // namespace

Status WriteHtmlInPieces(const MonthlyReport& r, const CompactRows* rows, size_t rows_per_piece,
                         int threads, const std::function<Status(std::string_view)>& sink) {
  return rows
             ? HtmlInPieces(r, rows->patched, rows->outstanding, rows->breached, rows_per_piece,
                            threads, sink)
             : HtmlInPieces(r, r.patched, r.outstanding, r.breached, rows_per_piece, threads, sink);
}

Result<std::string> RenderReportHtmlFromTemplate(const MonthlyReport& r) {
  Data d = FrameData(r, r.patched.size(), r.outstanding, r.breached.size());
  Data patched{Data::type::list};
  for (const ReportRow& v : r.patched) patched.push_back(RowData(v, true));
  d.set("patched", patched);
  Data outstanding{Data::type::list};
  for (const ReportRow& v : r.outstanding) outstanding.push_back(RowData(v, false));
  d.set("outstanding", outstanding);
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
  return RenderTemplate(kTemplate, d);
}

}  // namespace isms::app::internal
