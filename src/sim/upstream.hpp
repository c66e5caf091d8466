// The modelled upstream: what the mock upstream of `planproof run` would answer, decided by the
// same fault injector (the mock catalog's selection, draws and rate-limit buckets, in the same
// request order) and answered with the same bytes, but without a socket: an answer is a status or
// an error class and the plan time it arrives. Credentials, side effects and idempotency keys are
// tracked as the mock tracks them, so duplicate effects and auth failures come out the same.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.hpp"
#include "mocks/fault_injector.hpp"
#include "mocks/pagination.hpp"
#include "plan/model.hpp"

namespace planproof::sim {

// Which bytes a success answer carries, for the client's body check (client::response_mapper).
enum class body_variant : std::uint8_t { normal, truncated, invalid_utf8, wrong_content_type, drifted };

struct answer {
  int status = 0;                                // 0: no response (error says why)
  core::error_class error = core::error_class::none;
  std::optional<core::duration> retry_after;     // as the client parses the header: whole seconds
  core::duration after{};                        // from sending to the answer (or the error)
  bool hangs = false;                            // no answer: only the client's read timeout ends it
  body_variant body = body_variant::normal;
  std::size_t fault = 0;                         // drifted: which fault's drift
  // A page of a paginated endpoint, whole or broken by a pagination fault (body is then normal).
  // Pages are built once and shared: `page_key` tells them apart within the endpoint.
  std::shared_ptr<const std::string> page_body;
  std::uint64_t page_key = 0;
};

struct token_answer {
  bool issued = false;
  int status = 0;  // refused: the status
  core::duration after{};
  std::optional<core::duration> lifetime;  // issued: what it is good for (early expiry applied)
  std::optional<core::duration> retry_after;
};

class upstream_model {
 public:
  struct settings {
    std::uint64_t seed = 1;  // the fault injector's (the live runner derives the same one)
    core::duration network_delay{};  // added to every answer: loopback is about nothing
    // A server of limited capacity: answers wait for a free worker, and past the queue are shed.
    std::optional<plan::sim_capacity> capacity;
    // Every request a conditional write on one shared record (optimistic concurrency).
    std::optional<plan::sim_contention> contention;
    // Told the plan time (since origin) of each request a fault was applied to: the charts' series.
    std::function<void(core::duration)> on_fault;
  };
  // `faults`: the failure mode's faults the mock API injects (webhook faults are the provider's).
  upstream_model(const plan::integration_plan& plan, std::vector<plan::fault> faults, core::time_point origin,
                 settings s);

  // One attempt at `endpoint` (an index into plan.endpoints) sent at `now`, carrying credential
  // `token` (0: none; OAuth2 and JWT only) and the logical request's id `request`; on a paginated
  // endpoint, asking for page `page` (0-based, of the collection's page size).
  answer on_request(std::size_t endpoint, core::time_point now, std::uint64_t token, std::uint64_t request,
                    std::size_t page = 0);
  // The collection a paginated endpoint serves; null for another endpoint.
  const std::shared_ptr<const mocks::paged_collection>& pages(std::size_t endpoint) const { return pages_[endpoint]; }
  // OAuth2: a token request at `now`; an issued token is known by `generation`.
  token_answer on_token_request(core::time_point now, std::uint64_t generation);
  // JWT: a token the client minted, good for `lifetime` from `now`.
  void on_minted(core::time_point now, std::uint64_t generation, core::duration lifetime);

  // What the mock would have counted.
  std::uint64_t requests() const noexcept { return requests_; }
  std::uint64_t shed() const noexcept { return shed_; }            // capacity: answered shed_status
  std::uint64_t conflicts() const noexcept { return conflicts_; }  // contention: writes that lost
  std::uint64_t side_effects() const noexcept { return side_effects_; }
  std::uint64_t duplicate_effects() const noexcept { return duplicate_effects_; }
  std::map<std::string, std::uint64_t> faults_injected() const;
  // The first few duplicate effects: the request and the plan time since origin.
  const std::vector<std::pair<std::uint64_t, core::duration>>& duplicates() const noexcept { return duplicates_; }
  // The fault at `index` of those the model injects (answer::fault).
  const plan::fault& fault(std::size_t index) const { return injector_.faults()[index]; }
  std::size_t ignored_faults() const noexcept { return injector_.ignored(); }
  // The logical request has ended: no attempt of it can arrive any more, so what was kept to
  // recognise its retries (effects, idempotency keys) is let go: memory stays bounded by the
  // requests in flight however long the run.
  void on_request_ended(std::uint64_t request);

 private:
  struct credential {
    core::time_point expires_at{};
    bool revoked = false;
  };
  bool authorized(std::uint64_t token, core::time_point now) const;
  // Capacity: queues the request's work (its answer comes later), or sheds it. False when shed.
  bool serve(answer& a, core::time_point now);
  // Contention: the write lands, or loses to one since its read. False when it lost.
  bool commit(answer& a, core::time_point now);
  void count_fault(std::size_t index, core::duration elapsed);
  void account_effect(std::size_t endpoint, std::uint64_t request, core::duration elapsed);

  const plan::integration_plan* plan_;
  mocks::fault_injector injector_;
  core::time_point origin_;
  settings settings_;
  bool tokens_ = false;  // OAuth2 or JWT: requests carry a token the upstream checks
  bool oauth2_ = false;
  core::duration token_lifetime_{};
  std::unordered_map<std::uint64_t, credential> credentials_;
  std::vector<bool> unsafe_;     // per endpoint: POST or PATCH, a side effect
  std::vector<bool> keyed_;      // per endpoint: takes an idempotency key
  std::vector<std::shared_ptr<const mocks::paged_collection>> pages_;  // per endpoint, when paginated
  // Pages served so far, by endpoint and page key: at most four versions (whole, short, repeated,
  // shifted) of each page of the collection.
  std::unordered_map<std::uint64_t, std::shared_ptr<const std::string>> served_;
  void serve_page(answer& a, std::size_t endpoint, std::size_t page, std::optional<plan::page_breakage> breakage);
  std::unordered_set<std::uint64_t> keys_;     // idempotency keys stored
  std::unordered_set<std::uint64_t> effects_;  // requests that had an effect
  std::vector<std::uint64_t> injected_;        // per fault
  std::vector<std::pair<std::uint64_t, core::duration>> duplicates_;
  // Capacity: when each worker is next free (a min-heap), and the longest wait the queue allows.
  std::vector<core::time_point> workers_;
  core::duration max_wait_{};
  std::optional<core::time_point> last_commit_;  // contention: when the last write landed
  std::uint64_t shed_ = 0;
  std::uint64_t conflicts_ = 0;
  std::uint64_t requests_ = 0;
  std::uint64_t side_effects_ = 0;
  std::uint64_t duplicate_effects_ = 0;
};

}  // namespace planproof::sim
