#include "sim/upstream.hpp"

#include <cmath>

namespace planproof::sim {
namespace {

// Retry-After as the mock writes it in seconds: whole seconds, rounded up.
core::duration whole_seconds(core::duration d) {
  if (d <= core::duration::zero()) return core::duration::zero();
  return std::chrono::ceil<std::chrono::seconds>(d);
}

// The client reads a Retry-After; an HTTP date is cut to the second and lies within a second
// after the wait asked for: the model takes the longest.
std::optional<core::duration> retry_after_of(const plan::fault& f) {
  if (!f.retry_after) return std::nullopt;
  if (f.retry_after_as == plan::retry_after_format::http_date) return whole_seconds(*f.retry_after) + std::chrono::seconds(1);
  return whole_seconds(*f.retry_after);
}

constexpr std::size_t max_duplicates_kept = 5;

}  // namespace

upstream_model::upstream_model(const plan::integration_plan& plan, std::vector<plan::fault> faults,
                               core::time_point origin, settings s)
    : plan_(&plan), injector_(std::move(faults), s.seed), origin_(origin), settings_(std::move(s)) {
  oauth2_ = plan.auth.method == plan::auth_method::oauth2_client_credentials && plan.auth.oauth2.has_value();
  tokens_ = oauth2_ || (plan.auth.method == plan::auth_method::jwt && plan.auth.jwt.has_value());
  if (oauth2_) {
    token_lifetime_ = std::max<core::duration>(
        std::chrono::seconds(1), std::chrono::floor<std::chrono::seconds>(plan.auth.oauth2->token_lifetime));
  }
  for (const auto& e : plan.endpoints) {
    unsafe_.push_back(e.method == "POST" || e.method == "PATCH");
    keyed_.push_back(e.idempotency_header.has_value());
    pages_.push_back(e.pagination ? mocks::make_collection(plan, e) : nullptr);
  }
  injected_.assign(injector_.faults().size(), 0);
  if (const auto& c = settings_.capacity) {
    workers_.assign(static_cast<std::size_t>(c->workers), core::time_point::min());
    max_wait_ = c->service_time * c->queue / c->workers;
  }
}

bool upstream_model::serve(answer& a, core::time_point now) {
  if (workers_.empty()) return true;
  // The worker free first takes it; a request that would wait longer than the queue holds is shed.
  std::pop_heap(workers_.begin(), workers_.end(), std::greater<>());
  auto& free_at = workers_.back();
  const auto start = std::max(now, free_at);
  if (start - now > max_wait_) {
    std::push_heap(workers_.begin(), workers_.end(), std::greater<>());
    ++shed_;
    a.status = settings_.capacity->shed_status;
    return false;
  }
  free_at = start + settings_.capacity->service_time;
  std::push_heap(workers_.begin(), workers_.end(), std::greater<>());
  a.after += (start - now) + settings_.capacity->service_time;
  return true;
}

bool upstream_model::commit(answer& a, core::time_point now) {
  if (!settings_.contention) return true;
  // It read the record one network delay ago: another write since then makes this one lose.
  if (last_commit_ && *last_commit_ >= now - settings_.network_delay) {
    ++conflicts_;
    a.status = settings_.contention->status;
    return false;
  }
  last_commit_ = now;
  return true;
}

bool upstream_model::authorized(std::uint64_t token, core::time_point now) const {
  if (!tokens_) return true;
  const auto it = credentials_.find(token);
  return it != credentials_.end() && !it->second.revoked && now < it->second.expires_at;
}

void upstream_model::count_fault(std::size_t index, core::duration elapsed) {
  ++injected_[index];
  if (settings_.on_fault) settings_.on_fault(elapsed);
}

// As the mock: a write (POST, PATCH) that reached the backend is a side effect, unless its
// idempotency key was stored before (a replay); an effect for a request that had one is a duplicate.
void upstream_model::account_effect(std::size_t endpoint, std::uint64_t request, core::duration elapsed) {
  if (!unsafe_[endpoint]) return;
  if (keyed_[endpoint] && !keys_.insert(request).second) return;
  ++side_effects_;
  if (!effects_.insert(request).second) {
    ++duplicate_effects_;
    if (duplicates_.size() < max_duplicates_kept) duplicates_.emplace_back(request, elapsed);
  }
}

void upstream_model::on_request_ended(std::uint64_t request) {
  effects_.erase(request);
  keys_.erase(request);
}

answer upstream_model::on_request(std::size_t endpoint, core::time_point now, std::uint64_t token,
                                  std::uint64_t request, std::size_t page) {
  ++requests_;
  const auto elapsed = now - origin_;
  answer a;
  a.after = settings_.network_delay;
  // Checked before any fault is decided, as the mock does: a refused credential takes no draw.
  if (!authorized(token, now)) {
    a.status = 401;
    return a;
  }
  const auto& e = plan_->endpoints[endpoint];
  a.status = e.success_status();
  const auto& pages = pages_[endpoint];
  const mocks::page_scope scope{pages != nullptr, pages != nullptr && page > 0, pages != nullptr && page > 0};
  const auto decided =
      injector_.decide(e.id, elapsed, "", [](std::string_view) { return std::string_view(); }, scope);
  if (!decided) {
    if (serve(a, now) && commit(a, now)) {
      account_effect(endpoint, request, elapsed);
      if (pages) serve_page(a, endpoint, page, std::nullopt);
    }
    return a;
  }
  const auto& f = injector_.faults()[decided->index];
  count_fault(decided->index, elapsed);
  const auto& kind = f.kind;
  if (kind == "status" || (kind == "outage" && f.outage == plan::outage_mode::status)) {
    a.status = f.status;
    a.retry_after = retry_after_of(f);
    return a;
  }
  if (kind == "rate_limit") {
    a.status = f.status;
    if (decided->retry_after) a.retry_after = whole_seconds(*decided->retry_after);
    return a;
  }
  if (kind == "pagination") {
    if (f.breakage == plan::page_breakage::invalid_cursor) {
      a.status = f.status;  // the cursor is refused: nothing reached the backend
      return a;
    }
    account_effect(endpoint, request, elapsed);
    serve_page(a, endpoint, page, f.breakage);
    return a;
  }
  if (kind == "auth_expiry") {
    // The credential it hit is revoked (OAuth2, JWT: the client can get another); a static one is
    // refused for this request only.
    if (tokens_) {
      if (auto it = credentials_.find(token); it != credentials_.end()) it->second.revoked = true;
    }
    a.status = 401;
    return a;
  }
  if (kind == "latency" || kind == "slow_body") {
    // Work the server does: it takes a worker, and a write among others may lose.
    if (!serve(a, now) || !commit(a, now)) return a;
  }
  account_effect(endpoint, request, elapsed);
  if (kind == "latency") {
    a.after += decided->delay;
    if (pages) serve_page(a, endpoint, page, std::nullopt);
  } else if (kind == "hang") {
    a.hangs = true;
  } else if (kind == "reset" || kind == "empty_reply" || kind == "close" || kind == "outage") {
    a.status = 0;
    a.error = core::error_class::reset;
  } else if (kind == "slow_body") {
    a.after += f.over;
    if (pages) serve_page(a, endpoint, page, std::nullopt);
  } else if (kind == "malformed") {
    switch (f.malformed) {
      case plan::malformation::truncated: a.body = body_variant::truncated; break;
      case plan::malformation::invalid_utf8: a.body = body_variant::invalid_utf8; break;
      case plan::malformation::wrong_content_type: a.body = body_variant::wrong_content_type; break;
      case plan::malformation::wrong_content_length:
        a.status = 0;
        a.error = core::error_class::reset;  // the body ends before its stated length
        break;
    }
  } else if (kind == "schema_drift") {
    a.body = body_variant::drifted;
    a.fault = decided->index;
  }
  return a;
}

void upstream_model::serve_page(answer& a, std::size_t endpoint, std::size_t page,
                                std::optional<plan::page_breakage> breakage) {
  a.page_key = page * 5 + (breakage ? static_cast<std::uint64_t>(*breakage) + 1 : 0);
  const auto key = (static_cast<std::uint64_t>(endpoint) << 48) | a.page_key;
  auto& body = served_[key];
  if (!body) {
    const auto& pages = *pages_[endpoint];
    const mocks::page_position at{page * pages.page_size(), pages.page_size(), page > 0};
    body = std::make_shared<const std::string>(pages.serve(at, breakage).body);
  }
  a.page_body = body;
}

token_answer upstream_model::on_token_request(core::time_point now, std::uint64_t generation) {
  ++requests_;
  const auto elapsed = now - origin_;
  token_answer t;
  t.after = settings_.network_delay;
  auto lifetime = token_lifetime_;
  if (const auto early = injector_.early_expiry(elapsed)) lifetime = std::min(lifetime, *early);
  if (const auto decided = injector_.decide(mocks::fault_injector::token_endpoint, elapsed)) {
    const auto& f = injector_.faults()[*decided];
    count_fault(*decided, elapsed);
    if (f.delay) t.after += *f.delay;
    if (f.status != 0) {
      t.status = f.status;
      t.retry_after = retry_after_of(f);
      return t;
    }
  }
  t.issued = true;
  t.status = 200;
  // Announced: the full lifetime; enforced: the early expiry, from the moment it is issued.
  t.lifetime = token_lifetime_;
  credentials_[generation] = credential{now + lifetime, false};
  return t;
}

void upstream_model::on_minted(core::time_point now, std::uint64_t generation, core::duration lifetime) {
  credentials_[generation] = credential{now + lifetime, false};
}

std::map<std::string, std::uint64_t> upstream_model::faults_injected() const {
  std::map<std::string, std::uint64_t> out;
  const auto faults = injector_.faults();
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if (injected_[i] != 0) out[faults[i].kind] += injected_[i];
  }
  return out;
}

}  // namespace planproof::sim
