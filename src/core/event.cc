#include "core/event.h"

#include <algorithm>
#include <cstdint>
#include <vector>

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

namespace {

void PutU32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void PutI64(std::string& out, std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((u >> shift) & 0xFF));
}

void PutStr(std::string& out, std::string_view s) {
  PutU32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

}  // namespace

std::string EncodeEventCanonical(const Event& e) {
  std::string out;
  out.push_back('\x01');
  PutI64(out, e.id);
  PutStr(out, e.type);
  PutStr(out, e.subject);
  PutI64(out, e.at.time_since_epoch().count());
  PutI64(out, e.recorded_at.time_since_epoch().count());
  PutStr(out, e.actor);
  out.push_back(e.by_buyer ? '\x01' : '\x00');
  PutStr(out, e.note);
  std::vector<const std::pair<std::string, std::string>*> attrs;
  for (const auto& kv : e.attrs) attrs.push_back(&kv);
  std::sort(attrs.begin(), attrs.end(), [](auto* a, auto* b) { return a->first < b->first; });
  PutU32(out, static_cast<std::uint32_t>(attrs.size()));
  for (const auto* kv : attrs) {
    PutStr(out, kv->first);
    PutStr(out, kv->second);
  }
  if (e.supersedes) {
    out.push_back('\x01');
    PutI64(out, *e.supersedes);
  } else {
    out.push_back('\x00');
  }
  return out;
}

}  // namespace isms
