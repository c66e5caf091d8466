// When to fetch an access token, sans I/O: refresh ahead of expiry, one fetch at a time however
// many requests need a token (single flight), a 401 drops only the token it was answered to, and a
// failed fetch is retried after a backoff while the still-valid token (if any) keeps being used.
#pragma once

#include <cstdint>
#include <optional>

#include "core/clock.hpp"
#include "plan/model.hpp"
#include "resilience/backoff.hpp"
#include "resilience/random.hpp"

namespace planproof::resilience {

struct token_lifecycle_config {
  // Fetch a new token this long before the current one ends.
  core::duration refresh_before_expiry = std::chrono::seconds(60);
  // The lifetime assumed when the token answer carries no expires_in.
  core::duration default_lifetime = std::chrono::hours(1);
  // Waits between failed fetches (the plan's backoff: the same jitter and cap as request retries).
  plan::backoff_config fetch_backoff;
};

// A JWT's lifetime as the client mints it: whole seconds, at least one.
core::duration minted_jwt_lifetime(const plan::jwt_config& jwt) noexcept;
// The lifecycle the plan's auth gives the client's tokens: OAuth2 refreshes refresh_before_expiry
// ahead and assumes token_lifetime when an answer names none; a JWT is refreshed a fifth of its
// lifetime (at most 30 s) ahead; failed fetches back off with the plan's backoff. None for a method
// without tokens.
std::optional<token_lifecycle_config> lifecycle_for(const plan::auth_config& auth, const plan::retry_config& retry);

// What a request should do about its credential now.
enum class token_action : std::uint8_t {
  use,              // the current token is valid: send with it
  use_and_refresh,  // valid, but due for refresh: send with it, and this caller starts the fetch
  fetch,            // no valid token and no fetch under way: this caller fetches, the others wait
  wait,             // no valid token; a fetch is under way or backing off: wait for it
};

struct token_grant {
  token_action action = token_action::wait;
  std::uint64_t generation = 0;  // the token to send (use, use_and_refresh); 0 = none yet
  // wait: the earliest time the next fetch may start (a fetch that failed is backing off), or
  // now when one is under way.
  core::time_point retry_at{};
};

// Why a token was fetched, for the event log and the report.
enum class refresh_reason : std::uint8_t { initial, scheduled, rejected, expired };
std::string_view to_string(refresh_reason r) noexcept;

class token_lifecycle {
 public:
  explicit token_lifecycle(token_lifecycle_config config) : config_(config), backoff_(config.fetch_backoff) {}

  // Before each attempt. At most one caller at a time is told to fetch (fetch or use_and_refresh)
  // until it reports back with on_issued or on_fetch_failed.
  token_grant acquire(core::time_point now);
  // The fetch succeeded: a new generation, valid until now + lifetime (default_lifetime when the
  // answer carried none). Returns the new generation.
  std::uint64_t on_issued(core::time_point now, std::optional<core::duration> lifetime);
  // The fetch failed: the next one may start after a backoff drawn from `rng`. Returns that wait.
  core::duration on_fetch_failed(core::time_point now, random_source& rng);
  // The upstream refused `generation` (401 invalid_token). Only the current generation is dropped,
  // so N concurrent requests refused with the same token cause one fetch, not N. True when this
  // call dropped it.
  bool on_rejected(core::time_point now, std::uint64_t generation);

  // The reason the fetch now under way was started.
  refresh_reason pending_reason() const noexcept { return pending_reason_; }
  bool fetching() const noexcept { return fetching_; }
  std::uint64_t generation() const noexcept { return generation_; }
  std::uint64_t issued() const noexcept { return issued_; }
  int consecutive_failures() const noexcept { return failures_; }
  // When the current token stops being valid (meaningless before the first issue).
  core::time_point expires_at() const noexcept { return expires_at_; }
  // When the next scheduled refresh is due.
  core::time_point refresh_at() const noexcept;

 private:
  bool valid(core::time_point now) const noexcept { return generation_ != 0 && !dropped_ && now < expires_at_; }

  token_lifecycle_config config_;
  backoff_policy backoff_;
  std::uint64_t generation_ = 0;
  std::uint64_t issued_ = 0;
  core::time_point issued_at_{};
  core::time_point expires_at_{};
  core::time_point next_fetch_{};  // after a failure: not before this
  core::duration last_wait_{};     // the previous fetch backoff (decorrelated jitter grows from it)
  bool dropped_ = false;           // the current token was refused
  bool fetching_ = false;
  int failures_ = 0;
  refresh_reason pending_reason_ = refresh_reason::initial;
};

}  // namespace planproof::resilience
