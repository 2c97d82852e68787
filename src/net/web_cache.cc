#include "net/web_cache.h"

#include <cstdint>
#include <map>
#include <mutex>

#include "app/web_support.h"

namespace isms::net::web {

namespace {

// At most this many values are kept; the least recently used goes first.
constexpr size_t kMaxEntries = 256;

struct Entry {
  std::mutex compute;  // one request computes a key at a time
  std::uint64_t used = 0;  // when last asked for, in asks (under the cache's mutex)
  // Under the cache's mutex:
  std::shared_ptr<const nlohmann::json> value;
  app::ContractStamp stamp;  // of the data `value` was computed from
  Instant valid_until{};     // the projection's next change, or the time limit
};

std::mutex cache_mu;
std::uint64_t asks = 0;
std::map<std::string, std::shared_ptr<Entry>>& Entries() {
  static std::map<std::string, std::shared_ptr<Entry>> m;
  return m;
}

// Drops the least recently used entries beyond kMaxEntries (under cache_mu). A request still
// computing a dropped entry keeps it alive through its shared_ptr; its value is then not kept.
void Trim() {
  auto& m = Entries();
  while (m.size() > kMaxEntries) {
    auto oldest = m.begin();
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (it->second->used < oldest->second->used) oldest = it;
    }
    m.erase(oldest);
  }
}

}  // namespace

Result<std::shared_ptr<const nlohmann::json>> Cached(
    RequestContext& ctx, const std::string& contract, const std::string& kind,
    const std::function<Result<nlohmann::json>()>& compute) {
  app::Ledger& ledger = ctx.services.ledger();
  ISMS_ASSIGN_OR_RETURN(app::ContractStamp before, app::StampOf(ledger, contract));
  std::string key = ctx.app.options().store_url + '\n' + contract + '\n' + kind;
  std::shared_ptr<Entry> e;
  Instant now = ctx.clock.Now();
  {
    std::lock_guard<std::mutex> lock(cache_mu);
    std::shared_ptr<Entry>& slot = Entries()[key];
    if (!slot) slot = std::make_shared<Entry>();
    e = slot;
    e->used = ++asks;
    Trim();
    if (e->value && e->stamp.SameData(before)) {
      if (now < e->valid_until) return e->value;
    }
  }
  std::unique_lock<std::mutex> computing(e->compute, std::defer_lock);
  {
    // Only too old (same data, the projection not due to change): serve it while another
    // request computes the next.
    std::lock_guard<std::mutex> lock(cache_mu);
    bool only_old = e->value && e->stamp.SameData(before) &&
                    (!before.next_change || now < *before.next_change);
    if (only_old && !computing.try_lock()) return e->value;
  }
  if (!computing.owns_lock()) computing.lock();
  {
    // Another request may have computed it meanwhile.
    std::lock_guard<std::mutex> lock(cache_mu);
    if (e->value && e->stamp.SameData(before) && now < e->valid_until) return e->value;
  }
  ISMS_ASSIGN_OR_RETURN(nlohmann::json fresh, compute());
  auto value = std::make_shared<const nlohmann::json>(std::move(fresh));
  // Computing brought the projection up to date: its next change is the one to wait for.
  Result<app::ContractStamp> after = app::StampOf(ledger, contract);
  Instant until = now + kWebCacheTtl;
  if (after.ok() && after->next_change && *after->next_change < until) {
    until = *after->next_change;
  }
  std::lock_guard<std::mutex> lock(cache_mu);
  e->value = value;
  e->stamp = before;
  e->valid_until = until;
  return value;
}

}  // namespace isms::net::web
