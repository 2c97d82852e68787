// What a page computed from a whole contract (the dashboard's obligations, the chart of the
// findings, the counts of the start page), kept per server process and reused while the
// contract's data is unchanged (app/web_support.h ContractStamp), until the projection's next
// change by the clock, and for at most kWebCacheTtl of the clock's time. A page records or
// imports nothing without a new event or scan, so what it shows after a change is never the
// value from before it; a value only too old is served while one request computes the next.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "net/web_app.h"

namespace isms::net::web {

inline constexpr std::chrono::seconds kWebCacheTtl{60};

// The value `compute` gives for `kind` (a name of what is computed, with its parameters) of
// `contract`, from the cache when still good. Errors of `compute` are returned, not kept.
Result<std::shared_ptr<const nlohmann::json>> Cached(
    RequestContext& ctx, const std::string& contract, const std::string& kind,
    const std::function<Result<nlohmann::json>()>& compute);

}  // namespace isms::net::web
