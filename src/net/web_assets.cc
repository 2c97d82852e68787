#include "net/web_assets.h"

#include <algorithm>

namespace isms::net {

std::optional<std::string_view> FindWebAsset(std::string_view name) {
  std::span<const WebAsset> all = WebAssets();
  auto it = std::lower_bound(all.begin(), all.end(), name,
                             [](const WebAsset& a, std::string_view n) { return a.name < n; });
  if (it == all.end() || it->name != name) return std::nullopt;
  return it->data;
}

}  // namespace isms::net
