// The client under simulation: the live client's order of decisions (token, breaker permit,
// attempt budget, attempt, classification, breaker outcome, retry decision, backoff, dead letter)
// over the same policy objects of src/resilience, driven by the virtual scheduler instead of
// coroutines and sockets. Emits the same typed events, so the same folds judge it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "client/response_mapping.hpp"
#include "core/events.hpp"
#include "plan/model.hpp"
#include "resilience/circuit_breaker.hpp"
#include "resilience/random.hpp"
#include "resilience/retry_budget.hpp"
#include "resilience/retry_state.hpp"
#include "resilience/token_lifecycle.hpp"
#include "sim/scheduler.hpp"
#include "sim/upstream.hpp"

namespace planproof::sim {

// Event kinds the client owns on the scheduler (the traffic's start after them).
enum client_event : std::uint32_t { ev_proceed = 0, ev_answer = 1, ev_token_answer = 2, ev_token_wake = 3 };
inline constexpr std::uint32_t first_free_event_kind = 4;

class sim_client {
 public:
  // How a logical request ended, for the traffic: a page walk reads the page it got.
  struct ending {
    std::uint64_t request = 0;
    bool succeeded = false;
    const std::string* body = nullptr;  // a page request that succeeded: the page's body
    bool restarted = false;             // the read started again from the first page (refused cursor)
    std::size_t page = 0;               // the page it asked for first
  };
  // `on_end`: a logical request ended (however it ended): the traffic may start the next one.
  sim_client(scheduler& sched, upstream_model& upstream, const plan::integration_plan& plan,
             const plan::retry_config& retry, core::event_sink& events, std::uint64_t seed,
             std::function<void(const ending&)> on_end, std::uint32_t owner = 0);
  ~sim_client();
  sim_client(const sim_client&) = delete;
  sim_client& operator=(const sim_client&) = delete;

  // Starts logical request `id` to plan.endpoints[endpoint] now; on a paginated endpoint for page
  // `page`, starting again from the first page once when the cursor is refused and `restartable`.
  void submit(std::uint64_t id, std::size_t endpoint, std::size_t page = 0, bool restartable = false);
  // Runs one of the client's events (kind < first_free_event_kind).
  void dispatch(const sim_event& e);

  std::size_t in_flight() const noexcept { return in_flight_; }

 private:
  struct request;
  struct breaker_events;
  using body_check = client::body_check;

  void emit(const core::event& e) { events_->on_event(e); }
  void proceed(std::uint32_t slot);
  void send(std::uint32_t slot);
  void on_answer(std::uint32_t slot);
  void end(std::uint32_t slot, core::end_reason reason);
  void start_token_fetch(std::uint32_t slot);
  void on_token_answer();
  void wake_token_waiters();
  const body_check& check_body(std::size_t endpoint, const answer& a);
  body_check check(std::size_t endpoint, std::string_view content_type, std::string_view body) const {
    return client::check_success_body(plan_->endpoints[endpoint], mappers_[endpoint] ? &*mappers_[endpoint] : nullptr,
                                      content_type, body);
  }
  void finish(std::uint32_t slot, bool succeeded);

  scheduler* sched_;
  upstream_model* upstream_;
  const plan::integration_plan* plan_;
  plan::retry_config retry_;
  core::event_sink* events_;
  std::function<void(const ending&)> on_end_;
  std::uint32_t owner_ = 0;  // this client's number: on its events, and in its token ids
  resilience::seeded_random rng_;
  std::vector<resilience::retry_policy> policies_;  // per endpoint
  std::optional<resilience::retry_budget> budget_;
  std::unique_ptr<breaker_events> breaker_events_;
  std::vector<std::unique_ptr<resilience::circuit_breaker>> breakers_;  // per endpoint, or none
  std::vector<std::optional<client::response_mapper>> mappers_;        // per endpoint, when active
  std::vector<std::string> bodies_;    // per endpoint: the normal answer's body
  std::vector<std::string> examples_;  // per endpoint: the example, which broken answers are made from
  std::map<std::tuple<std::size_t, int, std::size_t>, body_check> checked_;
  std::unordered_map<std::uint64_t, std::optional<body_check>> pages_checked_;  // by endpoint and page key
  // Access tokens (OAuth2 fetched from the upstream, JWT minted).
  std::optional<resilience::token_lifecycle> tokens_;
  bool jwt_ = false;
  core::duration jwt_lifetime_{};
  std::uint64_t token_ids_ = 0;      // tokens asked of the upstream
  std::uint64_t current_token_ = 0;  // the one requests send
  std::optional<token_answer> token_pending_;
  std::uint64_t token_pending_id_ = 0;
  std::uint32_t fetcher_ = 0;        // the request whose fetch is under way
  bool fetcher_sends_ = false;       // it sends right after (use_and_refresh) rather than asking again
  std::vector<std::uint32_t> token_waiters_;

  std::vector<std::unique_ptr<request>> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t in_flight_ = 0;
};

}  // namespace planproof::sim
