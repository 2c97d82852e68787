// The web interface's templates (templates/*.mustache) and static files (static/*), embedded
// into the binary when it is built (embed_assets.cmake), so `isms serve` needs no files beside
// it. docs/web.md.
//
// Thread-safety: immutable data.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace isms::net {

struct WebAsset {
  std::string_view name;  // "templates/login.mustache", "static/isms.css"
  std::string_view data;
};

// Every embedded file, sorted by name.
std::span<const WebAsset> WebAssets();

// The content of the embedded file `name`; nullopt when there is none.
std::optional<std::string_view> FindWebAsset(std::string_view name);

}  // namespace isms::net
