#include "core/event.h"

#include <algorithm>

namespace isms {

std::optional<std::string_view> Event::Attr(std::string_view key) const {
  auto it = std::lower_bound(attrs.begin(), attrs.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  if (it != attrs.end() && it->first == key) return std::string_view(it->second);
  for (const auto& [k, v] : attrs) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

void Event::SetAttr(std::string_view key, std::string value) {
  auto it = std::lower_bound(attrs.begin(), attrs.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  if (it != attrs.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    attrs.emplace(it, std::string(key), std::move(value));
  }
}

Event RetractionOf(const Event& target) {
  Event r;
  r.type = "event.retracted";
  r.subject = target.subject;
  r.at = target.at;
  r.SetAttr("type", target.type);
  r.supersedes = target.id;
  return r;
}

}  // namespace isms
