#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "app/json_views.h"
#include "app/vulns.h"
#include "cli/commands.h"
#include "cli/store_access.h"
#include "cli/table.h"

namespace isms::cli {
namespace {

using nlohmann::ordered_json;

ordered_json OptionalInstant(const std::optional<Instant>& t) {
  return t ? ordered_json(FormatInstant(*t)) : ordered_json(nullptr);
}

// A progress line on a terminal for files over a few MB: bytes, findings, rate.
class Progress {
 public:
  explicit Progress(std::ostream& err, bool enabled) : err_(err), enabled_(enabled) {}
  void operator()(std::int64_t done, std::int64_t total, std::int64_t findings) {
    if (!enabled_ || total < (4 << 20)) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char line[160];
    std::snprintf(line, sizeof line, "\r  %5.1f%%  %.1f of %.1f MB  %lld findings  %.0f MB/s   ",
                  100.0 * static_cast<double>(done) / static_cast<double>(total), done / 1e6,
                  total / 1e6, static_cast<long long>(findings), s > 0 ? done / 1e6 / s : 0.0);
    err_ << line << std::flush;
    shown_ = true;
  }
  void Done() {
    if (shown_) err_ << "\n";
  }

 private:
  std::ostream& err_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

void ImportScan(Context& ctx, const ImportScanOptions& o) {
  app::ImportScanRequest r;
  r.contract = o.contract;
  r.asset = o.asset;
  if (!o.format.empty()) {
    Result<ScanFormat> f = ParseScanFormatKey(o.format);
    if (!f.ok()) return ctx.Fail(f.status());
    r.format = *f;
  }
  if (!o.scanned_at.empty()) {
    Result<Instant> t = ParseAt(o.scanned_at, false);
    if (!t.ok()) return ctx.Fail(t.status().WithContext("--scanned-at"));
    r.scanned_at = *t;
  }
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  app::Vulnerabilities vulns(**ledger);
  for (const std::string& file : o.files) {
    r.path = file;
    Progress progress(ctx.err, !o.quiet && isatty(STDERR_FILENO));
    auto started = std::chrono::steady_clock::now();
    Result<app::ImportScanResult> res =
        vulns.ImportScan(r, OsActor(), [&](std::int64_t d, std::int64_t t, std::int64_t n) {
          progress(d, t, n);
        });
    progress.Done();
    if (!res.ok()) {
      ctx.Fail(res.status());
      ctx.err << "isms: " << file << " was not imported; nothing of it was stored\n";
      continue;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (res->duplicate) {
      ctx.out << file << ": already imported as scan S-" << res->scan_id
              << " (same content): nothing changed\n";
      continue;
    }
    ctx.out << file << ": " << ScanFormatKey(res->format) << " scan S-" << res->scan_id << " by "
            << res->scanner << ": " << res->findings << " findings on " << res->assets
            << (res->assets == 1 ? " asset" : " assets") << ", " << res->new_findings << " new, "
            << res->remediated << " remediated by absence, " << res->reopened << " reopened ("
            << static_cast<long long>(s * 1000) << " ms)\n";
  }
}

void ImportAdvisory(Context& ctx, const ImportAdvisoryOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  app::Vulnerabilities vulns(**ledger);
  for (const std::string& file : o.files) {
    Result<app::ImportAdvisoryResult> r = vulns.ImportAdvisory(file, o.contract, OsActor());
    if (!r.ok()) {
      ctx.Fail(r.status());
      continue;
    }
    ctx.out << file << ": " << r->document_id << " by " << r->publisher << ", "
            << r->vulnerabilities << " vulnerabilities, " << r->findings_updated
            << " findings updated" << (r->duplicate ? " (read before)" : "") << "\n";
  }
}

void VulnList(Context& ctx, const VulnListOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  app::Vulnerabilities vulns(**ledger);
  app::FindingFilter f;
  f.state = o.state;
  f.category = o.category;
  if (!f.category.empty()) {
    Result<Category> c = ParseCategory(f.category);
    if (!c.ok()) return ctx.Fail(c.status());
    f.category = std::string(CategoryName(*c));
  }
  f.asset = o.asset;
  Result<std::vector<app::FindingView>> list = vulns.List(o.contract, f);
  if (!list.ok()) return ctx.Fail(list.status());
  if (o.json) {
    ordered_json arr = ordered_json::array();
    for (const auto& v : *list) arr.push_back(app::FindingJson(v, false));
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"ID", "ASSET", "VULNERABILITY", "CATEGORY", "RELEASED", "DUE", "STATE", "COMPONENT"});
  for (const auto& v : *list) {
    std::string released = v.patch_released ? FormatDate(*v.patch_released) : "no fix";
    if (v.patch_released_assumed) released += " (assumed)";
    std::string state = v.obligation_state.empty() ? v.state : v.state + ", " + v.obligation_state;
    if (v.at_risk) state += ", AT RISK";
    t.Add({v.id, v.asset, v.vuln_id, v.category, released, v.due ? FormatDate(*v.due) : "-", state,
           v.component});
  }
  t.Print(ctx.out);
}

void VulnShow(Context& ctx, const VulnShowOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  app::Vulnerabilities vulns(**ledger);
  // One finding, or with "-" one per input line (then --json prints one compact line each).
  const bool many = o.id == "-";
  ForEachValue(ctx, o.id, [&](std::string_view id) -> Result<std::string> {
    ISMS_ASSIGN_OR_RETURN(app::FindingView v, vulns.Show(std::string(id)));
    ordered_json j = app::FindingJson(v, true);
    if (o.json) return many ? j.dump() : j.dump(2);
    std::string text;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "obligations") continue;
      std::string value =
          it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
      char key[32];
      std::snprintf(key, sizeof key, "%-22s", it.key().c_str());
      text += key + value + "\n";
    }
    text += "obligations:";
    for (const Obligation& ob : v.obligations) {
      text += "\n  " + ob.clause + "  " + std::string(ObligationStateName(ob.state)) + "  due " +
              (ob.due_date ? FormatDate(*ob.due_date) : "-") + "  " + ob.title + "  (" +
              ob.consequence_text + ")";
      for (const std::string& f : ob.flags) text += "\n      " + f;
    }
    return text;
  });
}

void VulnAct(Context& ctx, const VulnActOptions& o) {
  app::NewEvent e;
  e.note = o.note;
  auto attr = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) e.attrs.emplace_back(k, v);
  };
  const std::string& a = o.action;
  if (a == "released") {
    e.type = "vuln.released";
    Result<Date> d = ParseDate(o.date);
    if (!d.ok()) return ctx.Fail(d.status());
    attr("date", o.date);
  } else if (a == "patched") {
    e.type = "vuln.patched";
  } else if (a == "not-exploitable") {
    e.type = "vuln.not_exploitable";
    attr("reason", o.reason);
  } else if (a == "exploitable") {
    e.type = "vuln.exploitable";
  } else if (a == "exploited") {
    e.type = "vuln.exploited";
  } else if (a == "extend") {
    e.type = "vuln.extended";
    attr("test_plan", o.test_plan);
  } else if (a == "agree") {
    e.type = "vuln.agreed";
    if (o.days) attr("days", std::to_string(*o.days));
    attr("until", o.until);
  } else if (a == "at-risk") {
    e.type = "vuln.at_risk";
  } else if (a == "notified") {
    e.type = "buyer.notified";
  } else if (a == "mitigated") {
    e.type = "mitigation.proposed";
  } else {
    return ctx.Fail(Status::InvalidArgument("unknown vuln action '" + a + "'"));
  }
  attr("evidence", o.evidence);
  if (!o.at.empty()) {
    Result<Instant> t = ParseAt(o.at, false);
    if (!t.ok()) return ctx.Fail(t.status());
    e.at = *t;
  }
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  app::Vulnerabilities vulns(**ledger);
  Result<Event> r = vulns.RecordFindingEvent(o.id, e, OsActor());
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out << "recorded event " << r->id << ": " << r->type << " " << r->subject << " at "
          << FormatInstant(r->at) << "\n";
}

void AssetList(Context& ctx, const AssetListOptions& o) {
  Result<std::unique_ptr<app::Ledger>> ledger = OpenLedger(ctx, o.store);
  if (!ledger.ok()) return ctx.Fail(ledger.status());
  app::Vulnerabilities vulns(**ledger);
  Result<std::vector<app::AssetView>> list = vulns.Assets(o.contract);
  if (!list.ok()) return ctx.Fail(list.status());
  if (o.json) {
    ordered_json arr = ordered_json::array();
    for (const auto& a : *list) {
      ordered_json aliases = ordered_json::array();
      for (const auto& [k, v] : a.aliases) aliases.push_back({{"kind", k}, {"value", v}});
      arr.push_back({{"name", a.name},
                     {"aliases", aliases},
                     {"last_scanned", OptionalInstant(a.last_scanned)},
                     {"open_findings", a.open_findings}});
    }
    ctx.out << arr.dump(2) << "\n";
    return;
  }
  Table t({"ASSET", "LAST SCANNED", "OPEN", "ALIASES"});
  for (const auto& a : *list) {
    std::string aliases;
    for (const auto& [k, v] : a.aliases) aliases += (aliases.empty() ? "" : " ") + k + ":" + v;
    t.Add({a.name, a.last_scanned ? FormatInstant(*a.last_scanned) : "never",
           std::to_string(a.open_findings), aliases});
  }
  t.Print(ctx.out);
}

}  // namespace isms::cli
