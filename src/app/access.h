// Accounts and access: users and their one role, contract grants, passwords (Argon2id), the TOTP
// second factor (RFC 6238), API tokens, browser sessions with CSRF tokens, log-in throttling,
// the role x action matrix (the one place that decides what a principal may do) and the audit
// records of every authentication, data access and change. See docs/access.md (the matrix is a
// table there, checked against kAccessMatrix by a test).
//
// Who calls what: the HTTPS server authenticates a request (Login + CreateSession, FindSession +
// CheckCsrf, or AuthenticateToken), asks Check(principal, action, contract) before every use case,
// and appends an access record for each request (AppendAccessRecords). The command line on the
// server host acts as the operating-system user (cli/store_access.h OsActor) and is not checked:
// access to the store's files or database is its gate. Its user and token commands append their
// access records directly.
//
// Secrets: passwords are stored as libsodium crypto_pwhash_str strings (Argon2id); API tokens and
// session ids are random 256-bit values of which only the SHA-256 (hex) is stored, so a copy of the
// store gives neither; CSRF tokens are derived from the session id and never stored. TOTP
// secrets are stored as given (the server needs them to compute codes).
//
// Errors: NotFound for an unknown user, token or session; AlreadyExists for a duplicate user;
// InvalidArgument for a bad name, role, password or date; PermissionDenied for a refused log-in,
// token or session, or an action the role may not do; FailedPrecondition for an admin without TOTP
// at log-in; Unavailable for a log-in refused while its throttling delay runs (the message says
// when to retry; RetryAfter gives the instant).
//
// Thread-safety: one Access per thread (it uses one store connection). The matrix functions are
// pure and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/ledger.h"
#include "audit/log_store.h"
#include "core/event_types.h"
#include "core/status.h"
#include "core/time.h"
#include "formats/audit_record.h"
#include "store/store.h"

namespace isms::app {

class AuditService;

// ---------------------------------------------------------------------------------------------
// Roles and the role x action matrix.

// A user has exactly one role.
enum class Role {
  kAdmin,            // users, grants and configuration; never a contract's data
  kSecurityOfficer,  // everything on its contracts
  kEngineer,         // imports, remediation records, audit search on its contracts
  kAuditor,          // read only, its contracts
  kBuyer,            // read only on its contract, plus the Buyer's own acts
};
inline constexpr Role kRoles[] = {Role::kAdmin, Role::kSecurityOfficer, Role::kEngineer,
                                  Role::kAuditor, Role::kBuyer};
// "admin", "security-officer", "engineer", "auditor", "buyer".
std::string_view RoleKey(Role r);
// The role of a key above; InvalidArgument listing the keys otherwise.
Result<Role> ParseRole(std::string_view key);

// What a principal asks to do. Contract actions name a contract; store actions do not.
enum class Action {
  kContractRead,    // a contract: its terms, status, obligations, events, assets, root causes
  kContractCreate,  // (store) create a contract with its terms and policy
  kEventRecord,     // record the supplier's events in the ledger (and a Buyer's act with evidence=)
  kBuyerAct,        // the Buyer's own acts without evidence=: approve/reject the ISMS/SMP, agree a
                    // 9.3.3 period, record a data demand or an erasure request (buyer_act types)
  kVulnRead,        // findings, their evidence, exceptions, scans
  kVulnImport,      // upload scans and advisories
  kVulnRecord,      // a finding's supplier-side events: release dates, remediation, exceptions
  kReportRead,      // view or download monthly reports, issued or not
  kReportIssue,     // issue (freeze) a monthly report
  kAuditSearch,     // search and export audit records
  kAuditRead,       // checkpoints, proofs, the result of verification
  kAuditIngest,     // append audit records (NDJSON upload)
  kAuditPurge,      // retention: purge old audit chunks
  kGrantRead,       // who holds a grant on the contract, and their role
  kGrantManage,     // grant or revoke a user's access to the contract
  kUserManage,      // (store) add and disable users, set passwords, enrol TOTP
  kTokenManage,     // (store) other users' API tokens (a user's own tokens need no grant)
  kAccessLogRead,   // (store) the store's access log (docs/access.md "Where records go")
};
inline constexpr Action kActions[] = {
    Action::kContractRead, Action::kContractCreate, Action::kEventRecord, Action::kBuyerAct,
    Action::kVulnRead,     Action::kVulnImport,     Action::kVulnRecord,  Action::kReportRead,
    Action::kReportIssue,  Action::kAuditSearch,    Action::kAuditRead,   Action::kAuditIngest,
    Action::kAuditPurge,   Action::kGrantRead,      Action::kGrantManage, Action::kUserManage,
    Action::kTokenManage,  Action::kAccessLogRead};
// "contract.read", "contract.create", "event.record", "buyer.act", "vuln.read", "vuln.import",
// "vuln.record", "report.read", "report.issue", "audit.search", "audit.read", "audit.ingest",
// "audit.purge", "grant.read", "grant.manage", "user.manage", "token.manage", "access-log.read".
std::string_view ActionKey(Action a);
Result<Action> ParseAction(std::string_view key);
// A short description for messages and docs, e.g. "issue a monthly report".
std::string_view ActionDescription(Action a);
// True for the store actions (contract.create, user.manage, token.manage, access-log.read).
bool IsStoreAction(Action a);

// Whether `role` may do `action`: on the contracts it holds, or for the admin's store and grant
// actions on every contract. The single source of the matrix (docs/access.md mirrors it).
bool Allowed(Role role, Action action);

// The action of recording an event of `type` as `role`: a Buyer's act recorded by a buyer is
// kBuyerAct; any other Buyer's act (which then needs evidence=) kEventRecord; a finding's event
// (stream "vuln:<id>") kVulnRecord; the rest kEventRecord.
Action EventAction(Role role, const EventType& type);

// ---------------------------------------------------------------------------------------------
// Principals.

// Who is acting, authenticated. `contracts` are the names of the contracts granted to the user
// (empty for an admin), loaded when the principal is authenticated, so a revoked grant takes
// effect on the next request.
struct Principal {
  std::int64_t user_id = 0;
  std::string name;
  Role role = Role::kAuditor;
  std::vector<std::string> contracts;
  std::string via;  // "password" (Login), "session", "token", "cli"
};

// The ledger's actor for a principal: its name; `buyer` for the buyer role (so its own acts need
// no evidence=).
Actor ToActor(const Principal& p);

// The message of a contract that does not exist: the same as Ledger::FindContract's.
Status NoSuchContract(const std::string& name);

// ---------------------------------------------------------------------------------------------
// Accounts.

struct AccessOptions {
  // Argon2id cost (crypto_pwhash_str): defaults are 3 passes over 64 MiB (docs/access.md gives
  // the time it takes). Tests lower them. A stored hash keeps the cost it was made with and is
  // re-hashed at the next successful log-in when the cost has changed.
  std::uint64_t pwhash_opslimit = 3;
  std::size_t pwhash_memlimit = 64u << 20;

  std::chrono::minutes session_idle{30};
  std::chrono::hours session_absolute{12};

  // Log-in throttling per (account name, client address): the first `free_failures` failures
  // cost nothing; each further one makes the next attempt wait `first_delay`, doubling, at most
  // `max_delay`. A success clears it. Never a lockout: the delay always ends.
  int free_failures = 3;
  std::chrono::seconds first_delay{1};
  std::chrono::seconds max_delay{300};

  std::string totp_issuer = "isms";  // the issuer of otpauth:// URIs
};

struct UserView {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kAuditor;
  std::vector<std::string> contracts;
  bool has_password = false;
  bool totp = false;
  bool disabled = false;
  Instant created_at{};
  std::string created_by;
};

struct GrantView {
  std::string user;
  Role role = Role::kAuditor;
  bool disabled = false;
  Instant granted_at{};
  std::string granted_by;
};

struct TotpEnrolment {
  std::string secret;  // base32 (RFC 4648, no padding), 160 random bits
  std::string
      uri;  // otpauth://totp/ISSUER:NAME?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
};

struct NewToken {
  std::int64_t id = 0;
  std::string token;  // "isms_" + 43 base64url characters; shown once, never stored
  Instant expires_at{};
};

struct TokenView {
  std::int64_t id = 0;
  std::string user;
  std::string note;
  Instant created_at{};
  std::string created_by;
  Instant expires_at{};
  std::optional<Instant> last_used_at;
  std::optional<Instant> revoked_at;
};

struct NewSession {
  std::string session_id;  // the cookie value: 256 random bits, base64url; only its hash is kept
  std::string csrf_token;  // to put in every form of the session
  Instant idle_expires_at{};
  Instant absolute_expires_at{};
};

struct SessionView {
  Principal principal;     // via "session"
  std::string csrf_token;  // the same as at creation
  Instant created_at{};
  std::string address;  // where the session was created from
};

// User names: 1-64 of a-z 0-9 . _ - @ (lower case), starting with a letter or digit.
Status ValidateUserName(std::string_view name);
// Passwords: 12-1024 bytes of UTF-8 without control characters, not the user's name.
Status ValidatePassword(std::string_view name, std::string_view password);

struct AccessEvent;
struct AccessLogEntry;

class Access {
 public:
  // Opens the store at `url` (applying migrations) and owns the connection.
  static Result<std::unique_ptr<Access>> Open(const std::string& url, const Clock& clock,
                                              AccessOptions options = {});
  // Borrows `conn` (e.g. a Ledger's), which must outlive this Access and be migrated.
  Access(store::Connection& conn, const Clock& clock, AccessOptions options = {});
  ~Access();
  Access(const Access&) = delete;
  Access& operator=(const Access&) = delete;

  store::Connection& connection() { return conn_; }
  const AccessOptions& options() const { return options_; }

  // Users. `by` is who acts (for created_by and the records). A user has exactly one role; an
  // admin never holds a contract (InvalidArgument). `password` empty: no password (the account
  // can use API tokens only until one is set). Contracts must exist (NotFound).
  Result<UserView> AddUser(const std::string& name, Role role,
                           const std::vector<std::string>& contracts, const std::string& password,
                           const Actor& by);
  // Disables the account: its sessions end, its tokens stop working, log-in is refused. Grants
  // and history stay. Disabling a disabled user is OK.
  Status DisableUser(const std::string& name, const Actor& by);
  // Sets the password (ValidatePassword); ends the user's sessions.
  Status SetPassword(const std::string& name, const std::string& password, const Actor& by);
  Result<std::vector<UserView>> ListUsers();
  Result<UserView> FindUser(const std::string& name);

  // Grants: the user may act, by its role, on the contract. Refused for an admin. Granting twice
  // is OK (the first grant is kept); revoking what is not granted is NotFound.
  Status Grant(const std::string& user, const std::string& contract, const Actor& by);
  Status Revoke(const std::string& user, const std::string& contract, const Actor& by);
  // Who holds the contract, by name (shown to its security officer and its buyer: grant.read).
  Result<std::vector<GrantView>> ListGrants(const std::string& contract);

  // Enrols (or replaces) the user's TOTP secret: RFC 6238, SHA-1, 6 digits, 30 s.
  Result<TotpEnrolment> EnableTotp(const std::string& name, const Actor& by);

  // Self-service (the web's Account page, access_self.cc): a user changes its own password and
  // second factor and revokes its own tokens; it needs no row of the matrix. Each change proves
  // the current password, checked as at log-in and under the same throttling (a wrong one counts
  // as a failed log-in of `p.name` from `address`): PermissionDenied "the current password is
  // wrong: nothing was changed", Unavailable while a delay runs, FailedPrecondition for an
  // account without a password.
  //
  // Sets p's password (ValidatePassword); every session of the user ends (SetPassword).
  Status ChangeOwnPassword(const Principal& p, const std::string& current,
                           const std::string& password, const std::string& address);
  // A new TOTP secret for `p`, not stored: nothing changes until ConfirmTotp.
  Result<TotpEnrolment> ProposeTotp(const Principal& p);
  // Stores `secret` (base32 of 160 bits, as ProposeTotp gives it) as p's second factor, in place
  // of any before, once `code` is its one-time code now (one step either way): InvalidArgument
  // "the one-time code does not match the new secret: nothing was changed" otherwise. The code
  // is spent: it cannot log in.
  Status ConfirmTotp(const Principal& p, const std::string& current, const std::string& secret,
                     const std::string& code, const std::string& address);
  // Revokes token `id` of `p`; NotFound, alike, for a token of another user or none.
  Status RevokeOwnToken(const Principal& p, std::int64_t id);

  // Web log-in. Refused (PermissionDenied, one message whatever was wrong) for an unknown name,
  // a wrong password, a disabled account, or a wrong or missing one-time code where TOTP is
  // enrolled; the password is hashed for an unknown name too, so timing tells nothing. An admin
  // without TOTP is refused (FailedPrecondition saying to enrol). A one-time code is accepted
  // for the time step before, at or after now, once (RFC 6238 5.2). Throttling: see
  // AccessOptions; during a delay the attempt is refused (Unavailable) without being checked.
  // `why`, when given, receives the reason of a refusal for the audit record (never for the
  // client): "unknown user", "wrong password", "no password set", "account disabled", "wrong
  // one-time code", "no TOTP enrolled", "throttled".
  Result<Principal> Login(const std::string& name, const std::string& password,
                          const std::string& totp_code, const std::string& address,
                          std::string* why = nullptr);
  // When the next attempt of `name` from `address` will be checked; nullopt when now.
  Result<std::optional<Instant>> RetryAfter(const std::string& name, const std::string& address);

  // API tokens of a user, valid until `expires_at` (which must be in the future).
  Result<NewToken> CreateToken(const std::string& user, Instant expires_at, const std::string& note,
                               const Actor& by);
  // The principal of a bearer token ("isms_..."); PermissionDenied for an unknown, revoked or
  // expired token or a disabled user.
  Result<Principal> AuthenticateToken(std::string_view bearer);
  // Tokens of `user`, or of every user when empty, newest first.
  Result<std::vector<TokenView>> ListTokens(const std::string& user);
  Result<TokenView> FindToken(std::int64_t id);
  Status RevokeToken(std::int64_t id, const Actor& by);

  // Sessions: created after Login; found by the cookie value. FindSession refuses
  // (PermissionDenied) an unknown session, or one idle for longer than session_idle or older than
  // session_absolute (then removed), and marks it used (at most once a minute).
  Result<NewSession> CreateSession(const Principal& p, const std::string& address);
  Result<SessionView> FindSession(std::string_view session_id);
  Status EndSession(std::string_view session_id);
  // A short public reference of a session for the audit records: the first 16 hex digits of
  // the SHA-256 of its id (the id itself is never logged).
  static std::string SessionRef(std::string_view session_id);
  // Constant-time comparison of a form's CSRF token with the session's.
  static bool CheckCsrf(const SessionView& session, std::string_view token);

  // The contracts `p` may see: its grants; for an admin, every contract (names only: an admin
  // manages grants but reads no data).
  Result<std::vector<std::string>> VisibleContracts(const Principal& p);

  // Whether `p` may do `a` on `contract` ("" for a store action):
  //   - OK when its role allows it and, for a contract action, it holds `contract`; an admin's
  //     contract actions (grant.read, grant.manage) reach every contract that exists;
  //   - NotFound when `p` does not hold `contract` (or, for an admin, it does not exist), with
  //     exactly the message of a contract that does not exist (NoSuchContract), so a user learns
  //     nothing of contracts not its own;
  //   - PermissionDenied naming the role and the action otherwise (an admin asking for a
  //     contract's data included).
  // Reads the store only for an admin's contract actions.
  Status Check(const Principal& p, Action a, const std::string& contract);

  // The log entries of an event about the user `e.user` (an authentication, an account change):
  // AccessEntries(e, the contracts the user holds now), or only the store's access log when no
  // user has that name. For the server's log-in records, refused ones included.
  Result<std::vector<AccessLogEntry>> EntriesFor(const AccessEvent& e);

 private:
  struct Row;
  Result<std::optional<Row>> LoadUser(const std::string& name);
  Result<Principal> LoadPrincipal(std::int64_t user_id, const std::string& via);
  Result<std::int64_t> ContractId(const std::string& name);
  Status RecordFailure(const std::string& name, const std::string& address);
  Result<std::string> HashPassword(const std::string& password);
  // The self-service check of `current` (access_self.cc): the user's row when it matches.
  Result<Row> CheckCurrentPassword(const Principal& p, const std::string& current,
                                   const std::string& address);
  const std::string& DummyHash();

  std::unique_ptr<store::Connection> owned_;
  store::Connection& conn_;
  const Clock& clock_;
  AccessOptions options_;
  std::string dummy_hash_;
};

// ---------------------------------------------------------------------------------------------
// Access audit records.

// One authentication, data access or change, as the audit log records it.
struct AccessEvent {
  Instant time{};
  std::string user;     // the principal, or the name tried at a failed log-in
  std::string role;     // its role key ("" when not known)
  std::string via;      // "password", "session", "token", "cli"
  std::string address;  // the client's address; "" from the command line
  std::string kind;     // "auth" (authentication), "access" (reading data), "change"
  std::string action;   // "login", "logout", "token", an action key, "user.add", ...
  std::string target;   // what: "GET /api/v1/contracts/x/status", "user bob", "token 4"
  std::string outcome;  // "success", "failure" or "denied"
  std::string detail;   // why it failed, what changed
  std::string session;  // a session's reference (SessionRef), tying a log-in to its log-out
};

// The audit record of `e`: app "isms", msgid the kind, host this machine's name, user, src_ip
// the address, category "other" (an admin's successful "login"/"logout": privileged-logon and
// privileged-logoff, Annex 1 8.1.2) with rule "isms",
// and the message "<action> <target>: <outcome>[ (<detail>)]"; via, action, outcome, role and
// target also as extra fields. docs/access.md ("Audit records").
AuditRecord AccessAuditRecord(const AccessEvent& e);

// Where a record goes: a contract's audit log, or (contract "") the store's access log.
struct AccessLogEntry {
  std::string contract;
  AuditRecord record;
};

// The entries of an event about `user` (authentication, account changes): one in the store's
// access log and one in the audit log of each of `contracts` (the contracts the user holds).
std::vector<AccessLogEntry> AccessEntries(const AccessEvent& e,
                                          const std::vector<std::string>& contracts);

// Appends the entries: one AuditService::AppendRecords per contract, and the store's access log
// (its own signed Merkle log, origin "isms/access") for the entries without a contract. Each
// log's entries are committed and checkpointed together; entries of a contract that no longer
// exists go to the store's log instead.
// Checkpoints are signed at `clock`'s time.
Status AppendAccessRecords(AuditService& audit, std::vector<AccessLogEntry> entries,
                           const Clock& clock);

// Records of the store's access log, in log order (AuditSearchRequest's contract is ignored);
// `fn` returns false to stop.
struct AuditSearchRequest;
struct AuditHit;
Status SearchAccessLog(AuditService& audit, const AuditSearchRequest& r,
                       const std::function<Result<bool>(AuditHit&&)>& fn);
// Full verification of the store's access log (as AuditService::Verify).
Result<audit::VerifyReport> VerifyAccessLog(AuditService& audit);

// The store's access log, for reading (search, verify) with audit::LogStore.
inline constexpr std::int64_t kAccessLogContractId = 0;
inline constexpr const char* kAccessLogOrigin = "isms/access";

}  // namespace isms::app
