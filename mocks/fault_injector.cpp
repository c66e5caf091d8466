#include "mocks/fault_injector.hpp"

#include <algorithm>
#include <cmath>

#include "plan/catalog.hpp"

namespace planproof::mocks {

bool is_injectable(const plan::fault& f) noexcept {
  const auto* entry = plan::find_fault(f.kind);
  if (entry == nullptr || !entry->supported) return false;
  if (f.kind == "status") return f.status >= 200 && f.status <= 999;  // 1xx is not a final answer
  if (f.kind == "latency") return f.latency.upper_bound() >= core::duration::zero();
  if (f.kind == "slow_body") return f.chunks >= 1 && f.over > core::duration::zero();
  if (f.kind == "rate_limit") return f.limit > 0 && f.status >= 200 && f.status <= 999;
  if (f.kind == "outage") return f.status >= 200 && f.status <= 999 && f.up.has_value() == f.down.has_value();
  if (f.kind == "schema_drift") return !f.drop.empty() || !f.rename.empty() || !f.retype.empty() || !f.add.empty();
  if (f.kind == "auth_expiry") return true;
  if (f.kind == "tls") return !f.endpoint;  // decided per connection, before any endpoint is known
  if (f.kind == "token_endpoint_down") return f.status == 0 ? f.delay.has_value() : f.status >= 200 && f.status <= 999;
  if (f.kind == "pagination") return f.breakage != plan::page_breakage::invalid_cursor || (f.status >= 200 && f.status <= 999);
  return f.kind == "hang" || f.kind == "reset" || f.kind == "empty_reply" || f.kind == "close" ||
         f.kind == "malformed";
}

fault_injector::fault_injector(std::vector<plan::fault> faults, std::uint64_t seed) : rng_(seed) {
  faults_.reserve(faults.size());
  for (auto& f : faults) {
    if (is_injectable(f)) {
      header_keys_ = header_keys_ || (f.kind == "rate_limit" && f.limit_key.starts_with("header:"));
      faults_.push_back(std::move(f));
    } else {
      ++ignored_;
    }
  }
  states_.resize(faults_.size());
  enabled_.assign(faults_.size(), true);
}

bool fault_injector::set_enabled(std::size_t index, bool enabled) noexcept {
  if (index >= enabled_.size()) return false;
  enabled_[index] = enabled;
  return true;
}

void fault_injector::reset() noexcept {
  for (auto& s : states_) s = state{};
}

// 53 random bits as a double in [0, 1): the same on every standard library, unlike
// std::uniform_real_distribution, so a seed means the same sequence everywhere.
double fault_injector::draw() noexcept { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

core::duration fault_injector::draw_latency(const plan::latency_spec& l) {
  using seconds = std::chrono::duration<double>;
  auto from_seconds = [](double s) {
    return std::chrono::duration_cast<core::duration>(seconds(std::max(0.0, s)));
  };
  core::duration d = l.value;
  switch (l.distribution) {
    case plan::latency_distribution::fixed: break;
    case plan::latency_distribution::uniform: {
      const double lo = core::to_seconds(l.min), hi = core::to_seconds(l.max);
      d = from_seconds(lo + (hi - lo) * draw());
      break;
    }
    case plan::latency_distribution::lognormal: {
      // Box-Muller from two of our own draws, so the sequence does not depend on the library.
      const double u1 = std::max(draw(), 0x1.0p-53), u2 = draw();
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.141592653589793 * u2);
      d = from_seconds(core::to_seconds(l.median) * std::exp(l.sigma * z));
      break;
    }
  }
  return l.cap ? std::min(d, *l.cap) : d;
}

bool fault_injector::in_scope(const plan::fault& f, std::string_view endpoint_id, core::duration elapsed,
                              page_scope page) const noexcept {
  if ((f.kind == "token_endpoint_down") != (endpoint_id == token_endpoint)) return false;
  if (f.kind == "pagination") {
    using plan::page_breakage;
    const bool can_show = f.breakage == page_breakage::invalid_cursor ? page.continuation
                          : f.breakage == page_breakage::short_page   ? page.paginated
                                                                      : page.past_first;
    if (!page.paginated || !can_show) return false;
  }
  if ((f.kind == "tls") != (endpoint_id == handshake)) return false;
  if (f.kind == "auth_expiry" && f.expire_after) return false;  // applied when tokens are issued
  if (f.endpoint && *f.endpoint != endpoint_id) return false;
  if (f.during.empty()) return true;
  return std::any_of(f.during.begin(), f.during.end(), [&](const plan::time_window& w) { return w.contains(elapsed); });
}

// Flapping: down for `down`, then up for `up`, repeating from the start of the window it is in.
bool fault_injector::down(const plan::fault& f, core::duration elapsed) const noexcept {
  if (!f.up || !f.down) return true;
  core::duration start{};
  for (const auto& w : f.during) {
    if (w.contains(elapsed)) start = w.from;
  }
  const auto period = *f.up + *f.down;
  return (elapsed - start) % period < *f.down;
}

// Spends a token of the key's bucket; when there is none, how long until there is one.
std::optional<core::duration> fault_injector::take_token(std::size_t i, const std::string& key,
                                                         core::duration elapsed) {
  const auto& f = faults_[i];
  auto& buckets = states_[i].buckets;
  const double size = f.burst > 0 ? f.burst : std::max(1.0, std::ceil(f.limit));
  auto it = buckets.find(key);
  if (it == buckets.end()) {
    const std::string& k = buckets.size() < max_buckets ? key : std::string("\x01overflow");
    it = buckets.emplace(k, bucket{size, elapsed}).first;
  }
  auto& b = it->second;
  if (elapsed > b.refilled) {
    b.tokens = std::min(size, b.tokens + core::to_seconds(elapsed - b.refilled) * f.limit);
    b.refilled = elapsed;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / f.limit;
  return std::chrono::duration_cast<core::duration>(std::chrono::duration<double>(wait));
}

std::optional<fault_decision> fault_injector::decide_with(std::string_view endpoint_id, core::duration elapsed,
                                                          const std::vector<std::string>& keys, page_scope page) {
  std::optional<fault_decision> chosen;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const auto& f = faults_[i];
    if (!enabled_[i] || !in_scope(f, endpoint_id, elapsed, page)) continue;
    const auto n = ++states_[i].in_scope;
    const double p = draw();
    std::optional<core::duration> empty_for;
    if (f.kind == "rate_limit") empty_for = take_token(i, keys[i], elapsed);
    if (chosen) continue;
    const bool selected = (!f.first || n <= *f.first) && (!f.every || n % *f.every == 0) && (!f.after || n > *f.after);
    if (!selected || p >= f.probability) continue;
    if (f.kind == "rate_limit" && !empty_for) continue;
    if (f.kind == "outage" && !down(f, elapsed)) continue;
    fault_decision d;
    d.index = i;
    if (f.kind == "latency") d.delay = draw_latency(f.latency);
    if (f.kind == "rate_limit") {
      d.retry_after = empty_for;
      d.bucket_size = f.burst > 0 ? f.burst : std::max(1.0, std::ceil(f.limit));
      d.bucket_window = std::chrono::duration_cast<core::duration>(std::chrono::duration<double>(d.bucket_size / f.limit));
    }
    chosen = d;
  }
  return chosen;
}

std::optional<core::duration> fault_injector::early_expiry(core::duration elapsed) const noexcept {
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const auto& f = faults_[i];
    if (!enabled_[i] || f.kind != "auth_expiry" || !f.expire_after) continue;
    const bool now = f.during.empty() ||
                     std::any_of(f.during.begin(), f.during.end(), [&](const auto& w) { return w.contains(elapsed); });
    if (now) return f.expire_after;
  }
  return std::nullopt;
}

std::optional<std::size_t> fault_injector::decide(std::string_view endpoint_id, core::duration elapsed) {
  auto d = decide(endpoint_id, elapsed, "", [](std::string_view) { return std::string_view(); });
  if (!d) return std::nullopt;
  return d->index;
}

}  // namespace planproof::mocks
