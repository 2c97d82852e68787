// API tokens and browser sessions: random 256-bit secrets of which only the SHA-256 is stored.
#include <sodium.h>

#include "app/access.h"
#include "app/access_internal.h"
#include "core/totp.h"

namespace isms::app {

using access_internal::Base64Url;
using access_internal::FromMillis;
using access_internal::Millis;
using access_internal::RandomBytes;

namespace {

constexpr std::string_view kTokenPrefix = "isms_";
// 32 random bytes in base64url without padding.
constexpr size_t kSecretChars = 43;
// last_used_at and last_seen_at are written at most this often.
constexpr auto kTouchEvery = std::chrono::minutes(1);

Status BadToken() {
  return Status::PermissionDenied("the API token is not valid (unknown or revoked)");
}

// The CSRF token of a session: derived from its id under a label of its own, so it differs
// from the stored hash and gives nothing of the id.
std::string CsrfOf(std::string_view session_id) {
  return Sha256Hex("isms csrf token\n" + std::string(session_id));
}

std::string Minutes(std::chrono::minutes m) {
  return std::to_string(m.count()) + " min";
}

}  // namespace

Result<NewToken> Access::CreateToken(const std::string& user, Instant expires_at,
                                     const std::string& note, const Actor& by) {
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> u, LoadUser(user));
  if (!u) {
    return Status::NotFound("no user named '" + user + "': `isms user list` shows the users");
  }
  if (u->disabled) {
    return Status::FailedPrecondition("the account '" + user + "' is disabled");
  }
  const Instant now = clock_.Now();
  if (expires_at <= now) {
    return Status::InvalidArgument("the token would expire at " + FormatInstant(expires_at) +
                                   ", which has passed: give a later date");
  }
  ISMS_RETURN_IF_ERROR(access_internal::InitSodium());
  NewToken t;
  t.token = std::string(kTokenPrefix) + Base64Url(RandomBytes(32));
  t.expires_at = expires_at;
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("INSERT INTO tokens (user_id, token_hash, note, "
                                               "created_at, created_by, expires_at) VALUES ($1, "
                                               "$2, $3, $4, $5, $6) RETURNING id"));
  st->BindInt(1, u->id);
  st->BindText(2, Sha256Hex(t.token));
  st->BindText(3, note);
  st->BindInt(4, Millis(now));
  st->BindText(5, by.name);
  st->BindInt(6, Millis(expires_at));
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return Status::Internal("the new token's number was not returned");
  t.id = st->ColumnInt(0);
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  return t;
}

Result<Principal> Access::AuthenticateToken(std::string_view bearer) {
  if (!bearer.starts_with(kTokenPrefix) || bearer.size() != kTokenPrefix.size() + kSecretChars) {
    return BadToken();
  }
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT id, user_id, expires_at, revoked_at, "
                                               "last_used_at FROM tokens WHERE token_hash = $1"));
  st->BindText(1, Sha256Hex(bearer));
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return BadToken();
  const std::int64_t id = st->ColumnInt(0);
  const std::int64_t user_id = st->ColumnInt(1);
  const Instant expires = FromMillis(st->ColumnInt(2));
  const bool revoked = !st->IsNull(3);
  const std::optional<std::int64_t> last_used = st->ColumnOptionalInt(4);
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  if (revoked) return BadToken();
  const Instant now = clock_.Now();
  if (expires <= now) {
    return Status::PermissionDenied("the API token expired at " + FormatInstant(expires) +
                                    ": ask for a new one");
  }
  ISMS_ASSIGN_OR_RETURN(Principal p, LoadPrincipal(user_id, "token"));
  if (!last_used || now - FromMillis(*last_used) >= kTouchEvery) {
    ISMS_ASSIGN_OR_RETURN(auto up,
                          conn_.Prepare("UPDATE tokens SET last_used_at = $2 WHERE id = $1"));
    up->BindInt(1, id);
    up->BindInt(2, Millis(now));
    ISMS_RETURN_IF_ERROR(up->Run());
  }
  return p;
}

namespace {

constexpr const char* kTokenSelect =
    "SELECT t.id, u.name, t.note, t.created_at, t.created_by, t.expires_at, t.last_used_at, "
    "t.revoked_at FROM tokens t JOIN users u ON u.id = t.user_id ";

TokenView ReadToken(const store::Statement& st) {
  TokenView t;
  t.id = st.ColumnInt(0);
  t.user = st.ColumnText(1);
  t.note = st.ColumnText(2);
  t.created_at = FromMillis(st.ColumnInt(3));
  t.created_by = st.ColumnText(4);
  t.expires_at = FromMillis(st.ColumnInt(5));
  if (!st.IsNull(6)) t.last_used_at = FromMillis(st.ColumnInt(6));
  if (!st.IsNull(7)) t.revoked_at = FromMillis(st.ColumnInt(7));
  return t;
}

}  // namespace

Result<std::vector<TokenView>> Access::ListTokens(const std::string& user) {
  ISMS_ASSIGN_OR_RETURN(
      auto st, conn_.Prepare(std::string(kTokenSelect) +
                             "WHERE $1 = '' OR u.name = $1 ORDER BY t.created_at DESC, t.id DESC"));
  st->BindText(1, user);
  std::vector<TokenView> out;
  while (true) {
    ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(ReadToken(*st));
  }
  return out;
}

Result<TokenView> Access::FindToken(std::int64_t id) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare(std::string(kTokenSelect) + "WHERE t.id = $1"));
  st->BindInt(1, id);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) {
    return Status::NotFound("no API token number " + std::to_string(id) +
                            ": `isms token list` shows them");
  }
  TokenView t = ReadToken(*st);
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  return t;
}

Status Access::RevokeToken(std::int64_t id, const Actor& by) {
  ISMS_ASSIGN_OR_RETURN(TokenView t, FindToken(id));
  if (t.revoked_at) return Status::Ok();
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE tokens SET revoked_at = $2, revoked_by = "
                                               "$3 WHERE id = $1 AND revoked_at IS NULL"));
  st->BindInt(1, id);
  st->BindInt(2, Millis(clock_.Now()));
  st->BindText(3, by.name);
  return st->Run();
}

std::string Access::SessionRef(std::string_view session_id) {
  return Sha256Hex(session_id).substr(0, 16);
}

bool Access::CheckCsrf(const SessionView& session, std::string_view token) {
  return ConstantTimeEquals(session.csrf_token, token);
}

Result<NewSession> Access::CreateSession(const Principal& p, const std::string& address) {
  ISMS_RETURN_IF_ERROR(access_internal::InitSodium());
  const Instant now = clock_.Now();
  NewSession s;
  s.session_id = Base64Url(RandomBytes(32));
  s.csrf_token = CsrfOf(s.session_id);
  s.idle_expires_at = now + options_.session_idle;
  s.absolute_expires_at = now + options_.session_absolute;
  store::Transaction tx(conn_);
  ISMS_RETURN_IF_ERROR(tx.Begin());
  // Sessions past either timeout are removed here, as well as when they are next presented.
  ISMS_ASSIGN_OR_RETURN(auto prune, conn_.Prepare("DELETE FROM sessions WHERE last_seen_at <= $1 "
                                                  "OR created_at <= $2"));
  prune->BindInt(1, Millis(now - options_.session_idle));
  prune->BindInt(2, Millis(now - options_.session_absolute));
  ISMS_RETURN_IF_ERROR(prune->Run());
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("INSERT INTO sessions (session_hash, user_id, "
                                               "address, created_at, last_seen_at) VALUES ($1, "
                                               "$2, $3, $4, $4)"));
  st->BindText(1, Sha256Hex(s.session_id));
  st->BindInt(2, p.user_id);
  st->BindText(3, address);
  st->BindInt(4, Millis(now));
  ISMS_RETURN_IF_ERROR(st->Run());
  ISMS_RETURN_IF_ERROR(tx.Commit());
  return s;
}

Result<SessionView> Access::FindSession(std::string_view session_id) {
  const Status ended = Status::PermissionDenied("the session has ended: log in again");
  if (session_id.size() != kSecretChars) return ended;
  const std::string hash = Sha256Hex(session_id);
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("SELECT user_id, address, created_at, last_seen_at "
                                               "FROM sessions WHERE session_hash = $1"));
  st->BindText(1, hash);
  ISMS_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return ended;
  const std::int64_t user_id = st->ColumnInt(0);
  SessionView v;
  v.address = st->ColumnText(1);
  v.created_at = FromMillis(st->ColumnInt(2));
  const Instant last_seen = FromMillis(st->ColumnInt(3));
  ISMS_ASSIGN_OR_RETURN(bool more, st->Step());
  (void)more;
  const Instant now = clock_.Now();
  std::optional<Status> expired;
  if (now - v.created_at >= options_.session_absolute) {
    expired = Status::PermissionDenied("the session is older than " +
                                       std::to_string(options_.session_absolute.count()) +
                                       " h: log in again");
  } else if (now - last_seen >= options_.session_idle) {
    expired = Status::PermissionDenied("the session was idle for more than " +
                                       Minutes(options_.session_idle) + ": log in again");
  }
  Result<Principal> p = expired ? Result<Principal>(*expired) : LoadPrincipal(user_id, "session");
  if (!p.ok()) {
    ISMS_RETURN_IF_ERROR(EndSession(session_id));
    return p.status();
  }
  if (now - last_seen >= kTouchEvery) {
    ISMS_ASSIGN_OR_RETURN(auto up, conn_.Prepare("UPDATE sessions SET last_seen_at = $2 WHERE "
                                                 "session_hash = $1"));
    up->BindText(1, hash);
    up->BindInt(2, Millis(now));
    ISMS_RETURN_IF_ERROR(up->Run());
  }
  v.principal = std::move(*p);
  v.csrf_token = CsrfOf(session_id);
  return v;
}

Status Access::EndSession(std::string_view session_id) {
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("DELETE FROM sessions WHERE session_hash = $1"));
  st->BindText(1, Sha256Hex(session_id));
  return st->Run();
}

}  // namespace isms::app
