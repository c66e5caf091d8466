#include "sim/client.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>

#include "mocks/canned_response.hpp"
#include "mocks/pagination.hpp"
#include "mocks/schema_drift.hpp"
#include "plan/json_text.hpp"

namespace planproof::sim {
namespace {

using core::error_class;

}  // namespace

// One logical request in flight. Slots are reused, so memory follows the requests in flight.
struct sim_client::request {
  std::uint64_t id = 0;
  std::size_t endpoint = 0;
  std::uint32_t step = 0;  // events carry it; an event of an earlier step is stale
  std::optional<resilience::retry_state> state;
  resilience::breaker_permit permit;
  resilience::attempt_budget budget;
  resilience::attempt_result last;
  std::uint64_t generation = 0;  // the token lifecycle's generation sent with the attempt
  core::time_point submitted{};
  core::time_point started{};
  bool waiting_for_token = false;
  std::size_t page = 0;       // the page it asks for now
  std::size_t first_page = 0; // the page it was sent for
  bool restartable = false;   // a refused cursor may start the read again from the first page (once)
  bool restarted = false;
  std::shared_ptr<const std::string> body;  // a page answer that succeeded
};

struct sim_client::breaker_events final : resilience::breaker_observer {
  explicit breaker_events(sim_client& c) : client(c) {}
  void on_transition(const resilience::breaker_transition& t) override {
    client.emit({.kind = core::event_kind::breaker_transition, .at = t.at, .detail = static_cast<std::uint8_t>(t.to)});
  }
  sim_client& client;
};

sim_client::sim_client(scheduler& sched, upstream_model& upstream, const plan::integration_plan& plan,
                       const plan::retry_config& retry, core::event_sink& events, std::uint64_t seed,
                       std::function<void(const ending&)> on_end, std::uint32_t owner)
    : sched_(&sched),
      upstream_(&upstream),
      plan_(&plan),
      retry_(retry),
      events_(&events),
      on_end_(std::move(on_end)),
      owner_(owner),
      rng_(seed) {
  // The lifecycle the live client's tokens get (scenario/auth_material.cpp).
  if (auto lifecycle = resilience::lifecycle_for(plan.auth, retry)) tokens_.emplace(*lifecycle);
  jwt_ = tokens_ && plan.auth.method == plan::auth_method::jwt;
  if (jwt_) jwt_lifetime_ = resilience::minted_jwt_lifetime(*plan.auth.jwt);
  const bool refreshable = tokens_.has_value();
  if (retry.retry_budget) budget_.emplace(*retry.retry_budget);
  if (retry.circuit_breaker) breaker_events_ = std::make_unique<breaker_events>(*this);
  for (const auto& e : plan.endpoints) {
    policies_.emplace_back(retry, e, refreshable);
    breakers_.push_back(retry.circuit_breaker
                            ? std::make_unique<resilience::circuit_breaker>(*retry.circuit_breaker, breaker_events_.get())
                            : nullptr);
    const plan::data_mapping* mapping = nullptr;
    for (const auto& m : plan.mapping) {
      if (m.endpoint == e.id && m.direction == plan::mapping_direction::response) mapping = &m;
    }
    client::response_mapper mapper(e, mapping);
    mappers_.emplace_back();
    if (mapper.active()) mappers_.back().emplace(std::move(mapper));
    // As the mock: broken answers are made from the example (a paginated endpoint's pages come
    // from the upstream's collection with each answer).
    examples_.push_back(e.response_example ? plan::json_text(*e.response_example) : "{}");
    bodies_.push_back(examples_.back());
  }
}

sim_client::~sim_client() = default;

void sim_client::submit(std::uint64_t id, std::size_t endpoint, std::size_t page, bool restartable) {
  std::uint32_t slot = 0;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(std::make_unique<request>());
  }
  auto& r = *slots_[slot];
  r.id = id;
  r.endpoint = endpoint;
  ++r.step;
  r.permit = {};
  r.last = {};
  r.generation = 0;
  r.waiting_for_token = false;
  r.page = r.first_page = page;
  r.restartable = restartable && page != 0;
  r.restarted = false;
  r.body.reset();
  r.submitted = sched_->now();
  ++in_flight_;
  emit({.kind = core::event_kind::request_submitted, .at = r.submitted, .request = id,
        .endpoint = plan_->endpoints[endpoint].id});
  r.state.emplace(policies_[endpoint], sched_->clock(), rng_, budget_ ? &*budget_ : nullptr);
  r.state->start();
  proceed(slot);
}

void sim_client::dispatch(const sim_event& e) {
  if (e.kind == ev_token_answer) {
    on_token_answer();
    return;
  }
  if (e.slot >= slots_.size() || slots_[e.slot]->step != e.tag) return;  // stale: the request moved on
  switch (e.kind) {
    case ev_proceed: proceed(e.slot); break;
    case ev_answer: on_answer(e.slot); break;
    case ev_token_wake:
      slots_[e.slot]->waiting_for_token = false;
      std::erase(token_waiters_, e.slot);
      proceed(e.slot);
      break;
    default: break;
  }
}

// Before each attempt, as the live client: a token, a breaker permit, the attempt's budget.
void sim_client::proceed(std::uint32_t slot) {
  auto& r = *slots_[slot];
  const auto now = sched_->now();
  if (tokens_) {
    const auto left = r.state->remaining();
    if (left <= core::duration::zero()) return end(slot, core::end_reason::token_unavailable);
    const auto grant = tokens_->acquire(now);
    switch (grant.action) {
      case resilience::token_action::use: r.generation = grant.generation; break;
      case resilience::token_action::use_and_refresh:
        fetcher_sends_ = true;
        return start_token_fetch(slot);
      case resilience::token_action::fetch:
        fetcher_sends_ = false;
        return start_token_fetch(slot);
      case resilience::token_action::wait: {
        const auto until = grant.retry_at > now ? std::min(grant.retry_at - now, left) : left;
        r.waiting_for_token = true;
        token_waiters_.push_back(slot);
        sched_->after(until, ev_token_wake, slot, ++r.step, owner_);
        return;
      }
    }
  }
  send(slot);
}

void sim_client::send(std::uint32_t slot) {
  auto& r = *slots_[slot];
  const auto now = sched_->now();
  auto* breaker = breakers_[r.endpoint].get();
  if (breaker != nullptr) {
    r.permit = breaker->try_acquire(now);
    if (!r.permit) {
      // Fail fast: no upstream call.
      emit({.kind = core::event_kind::call_rejected, .at = now, .request = r.id,
            .attempt = static_cast<std::uint32_t>(r.state->attempts() + 1), .delay = r.permit.retry_in()});
      return end(slot, core::end_reason::breaker_open);
    }
  }
  const auto budget = r.state->begin_attempt();
  if (!budget) {
    if (breaker != nullptr) breaker->on_ignored(r.permit, now);
    return end(slot, core::end_reason::deadline_exceeded);
  }
  r.budget = *budget;
  r.started = now;
  emit({.kind = core::event_kind::attempt_started, .at = now, .request = r.id,
        .attempt = static_cast<std::uint32_t>(budget->attempt)});
  auto a = upstream_->on_request(r.endpoint, now, tokens_ ? current_token_ : 0, r.id, r.page);
  const auto read_timeout = std::min(budget->read_timeout, r.state->remaining());
  resilience::attempt_result result;
  core::duration took = a.after;
  if (a.hangs || a.after >= read_timeout) {
    result.error = error_class::read_timeout;
    took = read_timeout;
  } else {
    result.status = a.status;
    result.error = a.error;
    result.retry_after = a.retry_after;
    const auto& success = plan_->endpoints[r.endpoint].statuses.success;
    if (a.error == error_class::none && std::find(success.begin(), success.end(), a.status) != success.end()) {
      // A page is checked as it is (pages differ); other bodies once per endpoint and variant.
      // A page is checked once per version of it (pages differ); other bodies once per variant.
      const bool page = a.page_body && a.body == body_variant::normal;
      const body_check* found = nullptr;
      if (page) {
        auto& slot_check = pages_checked_[(static_cast<std::uint64_t>(r.endpoint) << 48) | a.page_key];
        if (!slot_check) slot_check = check(r.endpoint, "application/json", *a.page_body);
        found = &*slot_check;
      }
      const auto& checked = page ? *found : check_body(r.endpoint, a);
      result.error = checked.error;
      result.records = checked.records;
      result.records_rejected = checked.rejected;
      if (checked.error != error_class::none || checked.rejected != 0) result.detail = checked.detail;
      if (page && checked.error == error_class::none) r.body = std::move(a.page_body);
    }
  }
  r.last = std::move(result);
  sched_->after(took, ev_answer, slot, ++r.step, owner_);
}

// The body check of the live client's attempt, on the bytes the mock would send; the outcome
// depends only on the endpoint and the variant, so it is worked out once.
const sim_client::body_check& sim_client::check_body(std::size_t endpoint, const answer& a) {
  const auto key = std::make_tuple(endpoint, static_cast<int>(a.body), a.body == body_variant::drifted ? a.fault : 0);
  if (auto it = checked_.find(key); it != checked_.end()) return it->second;
  std::string_view content_type = "application/json";
  std::string body;
  switch (a.body) {
    case body_variant::normal: body = bodies_[endpoint]; break;
    case body_variant::truncated: body = mocks::truncate_body(examples_[endpoint]); break;
    case body_variant::invalid_utf8: body = mocks::invalid_utf8_body(examples_[endpoint]); break;
    case body_variant::wrong_content_type:
      content_type = mocks::html_content_type;
      body = mocks::html_error_page;
      break;
    case body_variant::drifted: {
      boost::system::error_code ec;
      const auto example = boost::json::parse(examples_[endpoint], ec);
      body = ec ? examples_[endpoint] : mocks::drifted_body(example, upstream_->fault(a.fault));
      break;
    }
  }
  return checked_.emplace(key, check(endpoint, content_type, body)).first->second;
}

void sim_client::on_answer(std::uint32_t slot) {
  auto& r = *slots_[slot];
  const auto finished = sched_->now();
  const auto& policy = policies_[r.endpoint];
  const auto classified = policy.classifier().classify(r.last, r.state->auth_refreshed());
  emit({.kind = core::event_kind::attempt_finished, .at = finished, .request = r.id,
        .attempt = static_cast<std::uint32_t>(r.budget.attempt), .status = r.last.status, .error = r.last.error,
        .retry_after = r.last.retry_after, .latency = finished - r.started,
        .detail = static_cast<std::uint8_t>(classified),
        .rejected_records = static_cast<std::uint32_t>(r.last.records_rejected), .note = r.last.detail});
  if (auto* breaker = breakers_[r.endpoint].get()) {
    switch (resilience::breaker_outcome_for(r.last, classified)) {
      case resilience::breaker_outcome::success: breaker->on_success(r.permit, finished, finished - r.started); break;
      case resilience::breaker_outcome::failure: breaker->on_failure(r.permit, finished, finished - r.started); break;
      case resilience::breaker_outcome::ignored: breaker->on_ignored(r.permit, finished); break;
    }
  }
  if (r.restartable && r.last.error == error_class::none && r.last.status >= 400 && r.last.status < 500 &&
      r.last.status != 401 && r.last.status != 403 && r.last.status != 408 && r.last.status != 429 &&
      r.state->attempts() < policy.config().max_attempts) {
    // The cursor was refused (expired, evicted): the read starts again from the first page, once.
    emit({.kind = core::event_kind::read_restarted, .at = finished, .request = r.id,
          .attempt = static_cast<std::uint32_t>(r.state->attempts() + 1), .status = r.last.status});
    r.page = 0;
    r.restartable = false;
    r.restarted = true;
    return proceed(slot);
  }
  const auto decision = r.state->on_result(r.last);
  using action = resilience::retry_decision::action;
  switch (decision.what) {
    case action::succeed:
      emit({.kind = core::event_kind::request_completed, .at = finished, .request = r.id,
            .attempt = static_cast<std::uint32_t>(r.state->attempts()), .status = r.last.status,
            .latency = finished - r.submitted, .outcome = core::request_outcome::succeeded,
            .reason = core::end_reason::succeeded});
      return finish(slot, true);
    case action::give_up:
      if (decision.reason == core::end_reason::retry_budget_exhausted) {
        emit({.kind = core::event_kind::retry_refused, .at = finished, .request = r.id,
              .attempt = static_cast<std::uint32_t>(r.state->attempts() + 1)});
      }
      return end(slot, decision.reason);
    case action::refresh_auth_then_retry: {
      const bool dropped = tokens_ && tokens_->on_rejected(finished, r.generation);
      emit({.kind = core::event_kind::credential_rejected, .at = finished, .request = r.id,
            .attempt = static_cast<std::uint32_t>(r.budget.attempt), .status = r.last.status,
            .detail = static_cast<std::uint8_t>(dropped)});
      return proceed(slot);
    }
    case action::retry:
      emit({.kind = core::event_kind::backoff_scheduled, .at = finished, .request = r.id,
            .attempt = static_cast<std::uint32_t>(r.state->attempts() + 1), .delay = decision.delay});
      sched_->after(decision.delay, ev_proceed, slot, ++r.step, owner_);
      return;
  }
}

// Dead-lettered, as the live client ends every request that does not succeed (the simulator keeps
// no file: the record's existence is the event).
void sim_client::end(std::uint32_t slot, core::end_reason reason) {
  auto& r = *slots_[slot];
  const auto now = sched_->now();
  emit({.kind = core::event_kind::request_completed, .at = now, .request = r.id,
        .attempt = static_cast<std::uint32_t>(r.state->attempts()), .status = r.last.status, .error = r.last.error,
        .latency = now - r.submitted, .outcome = core::request_outcome::dead_lettered, .reason = reason});
  if (r.waiting_for_token) std::erase(token_waiters_, slot);
  finish(slot, false);
}

void sim_client::finish(std::uint32_t slot, bool succeeded) {
  auto& r = *slots_[slot];
  --in_flight_;
  upstream_->on_request_ended(r.id);
  ++r.step;
  free_.push_back(slot);
  // The slot is free again before the traffic hears of it, and the traffic starts nothing from
  // inside this call: its next request is an event of its own.
  if (on_end_) on_end_(ending{r.id, succeeded, succeeded && r.body ? r.body.get() : nullptr, r.restarted, r.first_page});
}

void sim_client::start_token_fetch(std::uint32_t slot) {
  auto& r = *slots_[slot];
  const auto now = sched_->now();
  const auto why = static_cast<std::uint8_t>(tokens_->pending_reason());
  emit({.kind = core::event_kind::token_requested, .at = now, .request = r.id, .detail = why});
  fetcher_ = slot;
  ++r.step;
  // Unique among every client's tokens: the upstream knows a token by it.
  const auto id = (static_cast<std::uint64_t>(owner_) << 32) | ++token_ids_;
  if (jwt_) {
    // Minted on the spot: no round trip.
    upstream_->on_minted(now, id, jwt_lifetime_);
    current_token_ = id;
    tokens_->on_issued(now, jwt_lifetime_);
    emit({.kind = core::event_kind::token_issued, .at = now, .request = r.id,
          .delay = tokens_->expires_at() - now, .detail = why});
    wake_token_waiters();
    if (fetcher_sends_) {
      r.generation = tokens_->generation();
      return send(slot);
    }
    return proceed(slot);
  }
  auto t = upstream_->on_token_request(now, id);
  // The plan's own read timeout bounds a token fetch, not a request's deadline.
  core::duration after = t.after;
  if (after >= retry_.timeouts.read) {
    t = token_answer{};
    t.status = -1;  // read timeout
    after = retry_.timeouts.read;
  }
  token_pending_ = t;
  token_pending_id_ = id;
  sched_->after(after, ev_token_answer, 0, 0, owner_);
}

void sim_client::on_token_answer() {
  if (!token_pending_) return;
  const auto t = *token_pending_;
  token_pending_.reset();
  const auto now = sched_->now();
  auto& r = *slots_[fetcher_];
  const auto why = static_cast<std::uint8_t>(tokens_->pending_reason());
  if (t.issued) {
    current_token_ = token_pending_id_;
    tokens_->on_issued(now, t.lifetime);
    emit({.kind = core::event_kind::token_issued, .at = now, .request = r.id, .status = t.status,
          .delay = tokens_->expires_at() - now, .detail = why});
  } else {
    const auto wait = tokens_->on_fetch_failed(now, rng_);
    emit({.kind = core::event_kind::token_failed, .at = now, .request = r.id, .status = std::max(0, t.status),
          .error = t.status < 0 ? error_class::read_timeout : error_class::none, .delay = wait, .detail = why});
  }
  wake_token_waiters();
  if (fetcher_sends_) {
    r.generation = tokens_->generation();
    return send(fetcher_);
  }
  proceed(fetcher_);
}

void sim_client::wake_token_waiters() {
  auto waiting = std::move(token_waiters_);
  token_waiters_.clear();
  for (const auto slot : waiting) {
    auto& r = *slots_[slot];
    r.waiting_for_token = false;
    sched_->after(core::duration::zero(), ev_proceed, slot, ++r.step, owner_);
  }
}

}  // namespace planproof::sim
