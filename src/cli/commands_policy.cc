#include <ostream>

#include "cli/commands.h"
#include "formats/policy_toml.h"

namespace isms::cli {

void PolicyShow(Context& ctx, const PolicyShowOptions& o) {
  Result<Policy> policy = LoadPolicyOption(o.policy_file);
  if (!policy.ok()) return ctx.Fail(policy.status());
  ctx.out << RenderPolicy(*policy);
}

}  // namespace isms::cli
