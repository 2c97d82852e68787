// The role x action matrix, principals and the permission check. Accounts: access_accounts.cc;
// tokens and sessions: access_sessions.cc; audit records: access_audit.cc.
#include "app/access.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <array>

#include "app/access_internal.h"

namespace isms::app {
namespace access_internal {

Status InitSodium() {
  static const int rc = sodium_init();
  if (rc < 0) return Status::Internal("libsodium could not be initialised");
  return Status::Ok();
}

std::string RandomBytes(std::size_t n) {
  (void)InitSodium();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string ThrottleKey(const std::string& name) {
  return ValidateUserName(name).ok() ? name : "invalid:" + Sha256Hex(name);
}

std::string Base64Url(std::string_view bytes) {
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string DummyHash(std::uint64_t opslimit, std::size_t memlimit) {
  auto b64 = [](const std::string& bytes) {
    const int variant = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), variant);
    out.resize(out.size() - 1);
    return out;
  };
  return "$argon2id$v=19$m=" + std::to_string(memlimit / 1024) + ",t=" + std::to_string(opslimit) +
         ",p=1$" + b64(RandomBytes(crypto_pwhash_SALTBYTES)) + "$" + b64(RandomBytes(32));
}

std::string HmacSha1(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

std::int64_t Millis(Instant t) {
  return t.time_since_epoch().count();
}
Instant FromMillis(std::int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}

}  // namespace access_internal

namespace {

// The matrix: one row per action, one column per role in the order of kRoles. docs/access.md
// holds the same table; access_test.cc checks that they agree.
struct MatrixRow {
  Action action;
  std::string_view key;
  std::string_view description;
  bool store;                   // a store action: names no contract
  std::array<bool, 5> allowed;  // admin, security-officer, engineer, auditor, buyer
};

constexpr bool Y = true;
constexpr bool N = false;

constexpr MatrixRow kMatrix[] = {
    {Action::kContractRead,
     "contract.read",
     "see a contract: its terms, status, obligations, events, assets and root causes",
     false,
     {N, Y, Y, Y, Y}},
    {Action::kContractCreate,
     "contract.create",
     "create a contract with its terms and policy",
     true,
     {Y, N, N, N, N}},
    {Action::kEventRecord,
     "event.record",
     "record the supplier's events in the ledger (and a Buyer's act with evidence=)",
     false,
     {N, Y, N, N, N}},
    {Action::kBuyerAct,
     "buyer.act",
     "record the Buyer's own acts without evidence= (approve or reject the ISMS or SMP, agree a "
     "9.3.3 period, a data demand, an erasure request)",
     false,
     {N, N, N, N, Y}},
    {Action::kVulnRead,
     "vuln.read",
     "see findings, their evidence and exceptions, and scans",
     false,
     {N, Y, Y, Y, Y}},
    {Action::kVulnImport, "vuln.import", "upload scans and advisories", false, {N, Y, Y, N, N}},
    {Action::kVulnRecord,
     "vuln.record",
     "record a finding's release date, remediation or exception (supplier side)",
     false,
     {N, Y, Y, N, N}},
    {Action::kReportRead,
     "report.read",
     "view and download monthly reports",
     false,
     {N, Y, Y, Y, Y}},
    {Action::kReportIssue,
     "report.issue",
     "issue (freeze) a monthly report",
     false,
     {N, Y, N, N, N}},
    {Action::kAuditSearch,
     "audit.search",
     "search and export audit records",
     false,
     {N, Y, Y, Y, Y}},
    {Action::kAuditRead,
     "audit.read",
     "read checkpoints, proofs and the result of verification",
     false,
     {N, Y, Y, Y, Y}},
    {Action::kAuditIngest, "audit.ingest", "append audit records", false, {N, Y, Y, N, N}},
    {Action::kAuditPurge,
     "audit.purge",
     "purge audit records older than the retention period",
     false,
     {N, Y, N, N, N}},
    {Action::kGrantRead,
     "grant.read",
     "see who holds the contract, in which role",
     false,
     {Y, Y, N, Y, Y}},
    {Action::kGrantManage,
     "grant.manage",
     "grant or revoke a user's access to the contract",
     false,
     {Y, N, N, N, N}},
    {Action::kUserManage,
     "user.manage",
     "add and disable users, set passwords, enrol TOTP",
     true,
     {Y, N, N, N, N}},
    {Action::kTokenManage,
     "token.manage",
     "create, list and revoke other users' API tokens",
     true,
     {Y, N, N, N, N}},
    {Action::kAccessLogRead,
     "access-log.read",
     "read the store's access log",
     true,
     {Y, N, N, N, N}},
};
static_assert(std::size(kMatrix) == std::size(kActions));

const MatrixRow& Row(Action a) {
  for (const MatrixRow& r : kMatrix) {
    if (r.action == a) return r;
  }
  return kMatrix[0];  // unreachable: every action has a row (access_test.cc)
}

size_t RoleIndex(Role r) {
  return static_cast<size_t>(r);
}

}  // namespace

std::string_view RoleKey(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kSecurityOfficer: return "security-officer";
    case Role::kEngineer: return "engineer";
    case Role::kAuditor: return "auditor";
    case Role::kBuyer: return "buyer";
  }
  return "auditor";
}

Result<Role> ParseRole(std::string_view key) {
  for (Role r : kRoles) {
    if (RoleKey(r) == key) return r;
  }
  return Status::InvalidArgument("unknown role '" + std::string(key) +
                                 "': use admin, security-officer, engineer, auditor or buyer");
}

std::string_view ActionKey(Action a) {
  return Row(a).key;
}
std::string_view ActionDescription(Action a) {
  return Row(a).description;
}
bool IsStoreAction(Action a) {
  return Row(a).store;
}

Result<Action> ParseAction(std::string_view key) {
  for (const MatrixRow& r : kMatrix) {
    if (r.key == key) return r.action;
  }
  return Status::InvalidArgument("unknown action '" + std::string(key) +
                                 "': docs/access.md lists the actions");
}

bool Allowed(Role role, Action action) {
  return Row(action).allowed[RoleIndex(role)];
}

Action EventAction(Role role, const EventType& type) {
  if (type.buyer_act) return role == Role::kBuyer ? Action::kBuyerAct : Action::kEventRecord;
  if (type.stream == StreamFamily::kVuln) return Action::kVulnRecord;
  return Action::kEventRecord;
}

Actor ToActor(const Principal& p) {
  return Actor{p.name, p.role == Role::kBuyer};
}

Status NoSuchContract(const std::string& name) {
  return Status::NotFound("no contract named '" + name +
                          "': `isms contract list` shows the contracts of this store");
}

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("user name '" + std::string(name) +
                                   "': it must have 1 to 64 characters");
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || (i > 0 && (c == '.' || c == '_' || c == '-' || c == '@'))) continue;
    return Status::InvalidArgument(
        "user name '" + std::string(name) + "': character " + std::to_string(i + 1) +
        " is not allowed; use lower-case letters, digits and . _ - @ (not first)");
  }
  return Status::Ok();
}

Status ValidatePassword(std::string_view name, std::string_view password) {
  if (password.size() < 12) {
    return Status::InvalidArgument("the password has " + std::to_string(password.size()) +
                                   " characters: it needs at least 12 (a passphrase of a few "
                                   "words is easier to remember)");
  }
  if (password.size() > 1024) {
    return Status::InvalidArgument("the password is longer than 1024 bytes");
  }
  for (char c : password) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return Status::InvalidArgument("the password holds a control character (a line break?)");
    }
  }
  if (password == name) return Status::InvalidArgument("the password is the user's name");
  return Status::Ok();
}

Status Access::Check(const Principal& p, Action a, const std::string& contract) {
  const bool allowed = Allowed(p.role, a);
  const std::string role(RoleKey(p.role));
  const std::string what =
      std::string(ActionDescription(a)) + " (" + std::string(ActionKey(a)) + ")";
  if (IsStoreAction(a)) {
    if (allowed) return Status::Ok();
    return Status::PermissionDenied("role " + role + " may not " + what);
  }
  if (p.role == Role::kAdmin) {
    if (!allowed) {
      return Status::PermissionDenied(
          "an admin account holds no data role: it may not " + what +
          " on any contract; a user of the contract with a data role may");
    }
    Result<std::int64_t> id = ContractId(contract);
    return id.ok() ? Status::Ok() : id.status();
  }
  if (std::find(p.contracts.begin(), p.contracts.end(), contract) == p.contracts.end()) {
    return NoSuchContract(contract);
  }
  if (allowed) return Status::Ok();
  return Status::PermissionDenied("role " + role + " may not " + what + " on contract '" +
                                  contract + "'");
}

}  // namespace isms::app
