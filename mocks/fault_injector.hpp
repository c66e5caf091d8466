// Which fault, if any, the mock upstream applies to a request. Pure decision: the plan's faults, a
// seeded generator, the request's plan time and rate-limit key in, a fault out. No clock and no
// socket, so the same seed and the same request order give the same fault sequence, and tests need
// no server.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/units.hpp"
#include "plan/model.hpp"

namespace planproof::mocks {

// Whether the mock can carry out this fault: a supported catalog kind with usable parameters.
// The runner filters unsupported kinds out first; anything else is dropped here, never applied.
bool is_injectable(const plan::fault& f) noexcept;

// A fault applied to one request, with what was drawn for it.
struct fault_decision {
  std::size_t index = 0;                      // into fault_injector::faults()
  core::duration delay{};                     // latency: the drawn delay, plan time
  std::optional<core::duration> retry_after;  // rate_limit: until the bucket has a token again
  double bucket_size = 0;                     // rate_limit: the policy's quota, for RateLimit headers
  core::duration bucket_window{};             // rate_limit: time to refill the whole bucket
};

// What the injector needs to know of a request to a paginated endpoint: `pagination` faults apply
// only there, and each breakage only where it can show.
struct page_scope {
  bool paginated = false;     // the route serves pages: short_page applies
  bool continuation = false;  // it carries a cursor, or asks for a page past the first: invalid_cursor applies
  bool past_first = false;    // its page starts after the first record: repeated_page, shifted_page apply
};

class fault_injector {
 public:
  fault_injector(std::vector<plan::fault> faults, std::uint64_t seed);

  // The fault to apply to a request for `endpoint_id` at plan time `elapsed`. `rate_key` names the
  // request's rate-limit bucket for `key: credential` (the credential it carried; "" = none) —
  // header keys are looked up with `header`, which may be empty when no rate_limit fault uses one.
  //
  // A fault is in scope when `elapsed` is in one of its windows and its endpoint filter matches;
  // every in-scope fault counts the request (for first/every/after) and takes exactly one draw from
  // the generator, whether or not an earlier one already applied, so one request's outcome never
  // shifts the draws of the faults after it. A rate_limit bucket spends a token on every request in
  // scope. The first in-scope fault (in plan order) that is selected and drawn below its
  // probability wins; a rate_limit fault applies only when its bucket is empty, an outage only in
  // its down periods.
  //
  // `page` says what kind of page request it is: a pagination fault is in scope only on requests
  // where its breakage can happen (see page_scope).
  template <class HeaderLookup>
  std::optional<fault_decision> decide(std::string_view endpoint_id, core::duration elapsed,
                                       std::string_view credential, HeaderLookup&& header, page_scope page = {});

  // For callers with no rate-limit key: the index of the fault applied.
  std::optional<std::size_t> decide(std::string_view endpoint_id, core::duration elapsed);

  // The endpoint id the server decides OAuth token requests under: only token_endpoint_down faults
  // apply there, and they apply nowhere else.
  static constexpr std::string_view token_endpoint = "\x01token";
  // The endpoint id the server decides each new HTTPS connection under, before its handshake: only
  // tls faults apply there (their selectors count connections), and they apply nowhere else.
  static constexpr std::string_view handshake = "\x01handshake";

  // How long tokens issued now live when an enabled auth_expiry fault with expire_after is in
  // its window (none: the full lifetime). Takes no draw: it is a state of the run, not a request's.
  std::optional<core::duration> early_expiry(core::duration elapsed) const noexcept;

  // The faults kept, in plan order.
  std::span<const plan::fault> faults() const noexcept { return faults_; }

  // A disabled fault is out of scope for every request: it neither applies, counts nor draws.
  // Both are for `planproof serve`'s admin API; index is into faults().
  bool set_enabled(std::size_t index, bool enabled) noexcept;
  bool enabled(std::size_t index) const noexcept { return index < enabled_.size() && enabled_[index]; }
  // Forgets what requests so far did: selector counts and rate-limit buckets (the generator keeps
  // its place, so a reset does not replay the same draws).
  void reset() noexcept;
  // How many faults of the plan were dropped because is_injectable() said no.
  std::size_t ignored() const noexcept { return ignored_; }

  // Rate-limit buckets beyond this many keys share one overflow bucket, so a client inventing keys
  // cannot grow memory without bound.
  static constexpr std::size_t max_buckets = 100'000;

 private:
  struct bucket {
    double tokens = 0;
    core::duration refilled{};
  };
  struct state {
    std::uint64_t in_scope = 0;                          // requests counted for first/every/after
    std::unordered_map<std::string, bucket> buckets;     // rate_limit
  };

  double draw() noexcept;
  core::duration draw_latency(const plan::latency_spec& l);
  bool in_scope(const plan::fault& f, std::string_view endpoint_id, core::duration elapsed,
                page_scope page) const noexcept;
  bool down(const plan::fault& f, core::duration elapsed) const noexcept;
  std::optional<core::duration> take_token(std::size_t i, const std::string& key, core::duration elapsed);
  std::optional<fault_decision> decide_with(std::string_view endpoint_id, core::duration elapsed,
                                            const std::vector<std::string>& keys, page_scope page);

  std::vector<plan::fault> faults_;
  std::vector<state> states_;  // parallel to faults_
  std::vector<bool> enabled_;  // parallel to faults_
  std::mt19937_64 rng_;
  std::size_t ignored_ = 0;
  bool header_keys_ = false;   // some rate_limit fault keys its buckets by a header
};

template <class HeaderLookup>
std::optional<fault_decision> fault_injector::decide(std::string_view endpoint_id, core::duration elapsed,
                                                     std::string_view credential, HeaderLookup&& header,
                                                     page_scope page) {
  // One key per fault: only rate_limit faults read theirs, and only header keys need the lookup.
  std::vector<std::string> keys(faults_.size());
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const auto& f = faults_[i];
    if (f.kind != "rate_limit") continue;
    if (f.limit_key == "credential") {
      keys[i] = credential;
    } else if (header_keys_ && f.limit_key.starts_with("header:")) {
      keys[i] = std::string(header(std::string_view(f.limit_key).substr(7)));
    }
  }
  return decide_with(endpoint_id, elapsed, keys, page);
}

}  // namespace planproof::mocks
