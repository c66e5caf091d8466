#include "resilience/token_lifecycle.hpp"

#include <algorithm>

namespace planproof::resilience {

std::string_view to_string(refresh_reason r) noexcept {
  switch (r) {
    case refresh_reason::initial: return "initial";
    case refresh_reason::scheduled: return "scheduled";
    case refresh_reason::rejected: return "rejected";
    case refresh_reason::expired: return "expired";
  }
  return "initial";
}

core::time_point token_lifecycle::refresh_at() const noexcept {
  // A lifetime shorter than the refresh margin would refresh on every request; refresh at half of
  // it instead, so a short-lived token is still used.
  const auto lifetime_left = expires_at_ - issued_at_;
  const auto margin = std::min(config_.refresh_before_expiry, lifetime_left / 2);
  return expires_at_ - margin;
}

token_grant token_lifecycle::acquire(core::time_point now) {
  if (valid(now)) {
    if (!fetching_ && now >= refresh_at() && now >= next_fetch_) {
      fetching_ = true;
      pending_reason_ = refresh_reason::scheduled;
      return {token_action::use_and_refresh, generation_, now};
    }
    return {token_action::use, generation_, now};
  }
  if (fetching_) return {token_action::wait, 0, now};
  if (now < next_fetch_) return {token_action::wait, 0, next_fetch_};
  fetching_ = true;
  pending_reason_ = generation_ == 0 ? refresh_reason::initial
                    : dropped_       ? refresh_reason::rejected
                                     : refresh_reason::expired;
  return {token_action::fetch, 0, now};
}

std::uint64_t token_lifecycle::on_issued(core::time_point now, std::optional<core::duration> lifetime) {
  fetching_ = false;
  failures_ = 0;
  dropped_ = false;
  next_fetch_ = now;
  ++generation_;
  ++issued_;
  issued_at_ = now;
  expires_at_ = now + std::max(core::duration::zero(), lifetime.value_or(config_.default_lifetime));
  return generation_;
}

core::duration token_lifecycle::on_fetch_failed(core::time_point now, random_source& rng) {
  fetching_ = false;
  ++failures_;
  const auto wait = backoff_.next(failures_, last_wait_, rng);
  last_wait_ = wait;
  next_fetch_ = now + wait;
  return wait;
}

bool token_lifecycle::on_rejected(core::time_point /*now*/, std::uint64_t generation) {
  if (generation == 0 || generation != generation_ || dropped_) return false;
  dropped_ = true;
  // A refused token is worthless: the next fetch may start at once, whatever a failed scheduled
  // refresh said about backing off.
  next_fetch_ = core::time_point{};
  return true;
}

core::duration minted_jwt_lifetime(const plan::jwt_config& jwt) noexcept {
  return std::max<core::duration>(std::chrono::seconds(1), std::chrono::floor<std::chrono::seconds>(jwt.lifetime));
}

std::optional<token_lifecycle_config> lifecycle_for(const plan::auth_config& auth, const plan::retry_config& retry) {
  if (auth.method == plan::auth_method::oauth2_client_credentials && auth.oauth2) {
    return token_lifecycle_config{.refresh_before_expiry = auth.oauth2->refresh_before_expiry,
                                  .default_lifetime = auth.oauth2->token_lifetime,
                                  .fetch_backoff = retry.backoff};
  }
  if (auth.method == plan::auth_method::jwt && auth.jwt) {
    return token_lifecycle_config{
        .refresh_before_expiry = std::min<core::duration>(auth.jwt->lifetime / 5, std::chrono::seconds(30)),
        .default_lifetime = minted_jwt_lifetime(*auth.jwt),
        .fetch_backoff = retry.backoff};
  }
  return std::nullopt;
}

}  // namespace planproof::resilience
