// Feeds arbitrary bytes to the policy file loader: it must return a Policy or an error, never
// crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/policy_toml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  isms::Result<isms::Policy> policy = isms::LoadPolicyString(text, "fuzz.toml");
  if (policy.ok()) {
    (void)isms::RenderPolicy(*policy);
    (void)policy->Validate();
  }
  return 0;
}
