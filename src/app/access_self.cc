// Self-service: a user changes its own password and second factor and revokes its own API
// tokens (the web's Account page). Every change proves the current password, under the log-in
// throttling, so a session left open is not enough to take the account over.
#include <sodium.h>

#include "app/access.h"
#include "app/access_internal.h"
#include "core/totp.h"

namespace isms::app {

using access_internal::Millis;

Result<Access::Row> Access::CheckCurrentPassword(const Principal& p, const std::string& current,
                                                 const std::string& address) {
  const std::string key = access_internal::ThrottleKey(p.name);
  ISMS_ASSIGN_OR_RETURN(std::optional<Instant> retry, RetryAfter(p.name, address));
  if (retry) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(*retry - clock_.Now());
    return Status::Unavailable("too many wrong passwords as '" + key + "' from " + address +
                               ": try again after " + FormatInstant(*retry) + " (in " +
                               std::to_string(wait.count()) + " s)");
  }
  ISMS_ASSIGN_OR_RETURN(std::optional<Row> u, LoadUser(p.name));
  if (!u || u->id != p.user_id || u->disabled) {
    return Status::PermissionDenied("the account '" + p.name + "' is disabled or gone");
  }
  if (u->password_hash.empty()) {
    return Status::FailedPrecondition("'" + p.name +
                                      "' has no password to prove: an admin sets one first "
                                      "(`isms user password " +
                                      p.name + "`)");
  }
  ISMS_RETURN_IF_ERROR(access_internal::InitSodium());
  if (crypto_pwhash_str_verify(u->password_hash.c_str(), current.data(), current.size()) != 0) {
    ISMS_RETURN_IF_ERROR(RecordFailure(key, address));
    return Status::PermissionDenied("the current password is wrong: nothing was changed");
  }
  return *u;
}

Status Access::ChangeOwnPassword(const Principal& p, const std::string& current,
                                 const std::string& password, const std::string& address) {
  // The new password's rules first: a typing mistake costs no throttling.
  ISMS_RETURN_IF_ERROR(ValidatePassword(p.name, password));
  ISMS_ASSIGN_OR_RETURN(Row u, CheckCurrentPassword(p, current, address));
  (void)u;
  return SetPassword(p.name, password, ToActor(p));
}

Result<TotpEnrolment> Access::ProposeTotp(const Principal& p) {
  ISMS_RETURN_IF_ERROR(access_internal::InitSodium());
  TotpEnrolment e;
  e.secret = Base32Encode(access_internal::RandomBytes(20));
  e.uri = OtpauthUri(options_.totp_issuer, p.name, e.secret, TotpParams{});
  return e;
}

Status Access::ConfirmTotp(const Principal& p, const std::string& current,
                           const std::string& secret, const std::string& code,
                           const std::string& address) {
  Result<std::string> key = Base32Decode(secret);
  if (!key.ok() || key->size() != 20) {
    return Status::InvalidArgument(
        "the new secret is not one this server proposed (base32 of 160 bits): start the "
        "enrolment again");
  }
  ISMS_ASSIGN_OR_RETURN(Row u, CheckCurrentPassword(p, current, address));
  const std::string k = *key;
  OtpMac mac = [&k](std::string_view m) { return access_internal::HmacSha1(k, m); };
  std::optional<std::uint64_t> step = TotpVerify(mac, code, clock_.Now(), TotpParams{}, 1, {});
  if (!step) {
    return Status::InvalidArgument(
        "the one-time code does not match the new secret: nothing was changed (check the "
        "authenticator's clock, or type the code it shows now)");
  }
  ISMS_ASSIGN_OR_RETURN(auto st, conn_.Prepare("UPDATE users SET totp_secret = $2, totp_last_step "
                                               "= $3, changed_at = $4, changed_by = $5 WHERE "
                                               "id = $1"));
  st->BindInt(1, u.id);
  st->BindText(2, secret);
  st->BindInt(3, static_cast<std::int64_t>(*step));
  st->BindInt(4, Millis(clock_.Now()));
  st->BindText(5, p.name);
  return st->Run();
}

Status Access::RevokeOwnToken(const Principal& p, std::int64_t id) {
  Result<TokenView> t = FindToken(id);
  if (!t.ok() && t.status().code() != StatusCode::kNotFound) return t.status();
  if (!t.ok() || t->user != p.name) {
    return Status::NotFound("no API token number " + std::to_string(id) + " of yours");
  }
  return RevokeToken(id, ToActor(p));
}

}  // namespace isms::app
