#include "mocks/fault_injector.hpp"

#include <algorithm>
#include <array>

#include <gtest/gtest.h>

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;

plan::fault status_fault(double probability) {
  plan::fault f;
  f.kind = "status";
  f.status = 503;
  f.probability = probability;
  return f;
}

// Which fault (or -1) each of `n` requests to `endpoint` at `elapsed` gets.
std::vector<int> sequence(fault_injector& inj, int n, std::string_view endpoint = "a",
                          core::duration elapsed = 0ms) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    const auto d = inj.decide(endpoint, elapsed);
    out.push_back(d ? static_cast<int>(*d) : -1);
  }
  return out;
}

TEST(fault_injector, probability_zero_never_applies_and_one_always_does) {
  fault_injector never({status_fault(0.0)}, 1);
  fault_injector always({status_fault(1.0)}, 1);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(never.decide("a", 0ms));
    EXPECT_EQ(always.decide("a", 0ms), std::optional<std::size_t>(0));
  }
}

TEST(fault_injector, applies_at_about_its_probability) {
  fault_injector inj({status_fault(0.3)}, 42);
  const auto seq = sequence(inj, 10000);
  const auto applied = std::count(seq.begin(), seq.end(), 0);
  // Deterministic for the seed; the bounds only say the draw is a uniform number compared with p.
  EXPECT_GT(applied, 2700);
  EXPECT_LT(applied, 3300);
}

TEST(fault_injector, window_is_half_open_in_plan_time) {
  auto f = status_fault(1.0);
  f.during = {{10s, 20s}};
  fault_injector inj({f}, 1);
  EXPECT_FALSE(inj.decide("a", 10s - 1ns));
  EXPECT_TRUE(inj.decide("a", 10s));
  EXPECT_TRUE(inj.decide("a", 20s - 1ns));
  EXPECT_FALSE(inj.decide("a", 20s));

  f.during = {{10s, std::nullopt}};
  fault_injector open_ended({f}, 1);
  EXPECT_FALSE(open_ended.decide("a", 9s));
  EXPECT_TRUE(open_ended.decide("a", 1000h));
}

TEST(fault_injector, endpoint_filter_limits_the_fault) {
  auto f = status_fault(1.0);
  f.endpoint = "charge";
  fault_injector inj({f}, 1);
  EXPECT_TRUE(inj.decide("charge", 0ms));
  EXPECT_FALSE(inj.decide("refund", 0ms));
}

TEST(fault_injector, first_applying_fault_in_plan_order_wins) {
  auto a = status_fault(1.0);
  a.status = 429;
  auto b = status_fault(1.0);
  fault_injector inj({a, b}, 1);
  EXPECT_EQ(inj.decide("a", 0ms), std::optional<std::size_t>(0));

  auto never = status_fault(0.0);
  fault_injector second({never, b}, 1);
  EXPECT_EQ(second.decide("a", 0ms), std::optional<std::size_t>(1));
}

TEST(fault_injector, same_seed_same_sequence_and_another_seed_another) {
  fault_injector first({status_fault(0.5)}, 7);
  fault_injector again({status_fault(0.5)}, 7);
  fault_injector other({status_fault(0.5)}, 8);
  const auto s1 = sequence(first, 50);
  EXPECT_EQ(s1, sequence(again, 50));
  EXPECT_NE(s1, sequence(other, 50));
  // Both outcomes occur, so the comparison above compares something.
  EXPECT_NE(std::count(s1.begin(), s1.end(), 0), 0);
  EXPECT_NE(std::count(s1.begin(), s1.end(), -1), 0);
}

TEST(fault_injector, every_in_scope_fault_takes_one_draw_and_out_of_scope_ones_none) {
  const auto b = status_fault(0.5);
  fault_injector alone({b}, 3);
  const auto reference = sequence(alone, 50);

  // A fault out of its window or for another endpoint draws nothing: b's sequence is unchanged.
  auto later = status_fault(0.5);
  later.during = {{1h, std::nullopt}};
  auto elsewhere = status_fault(0.5);
  elsewhere.endpoint = "other";
  fault_injector with_idle({later, elsewhere, b}, 3);
  auto seq = sequence(with_idle, 50);
  for (auto& i : seq) i = i == 2 ? 0 : i;
  EXPECT_EQ(seq, reference);

  // An in-scope fault draws even when it does not apply, so b sees other numbers.
  fault_injector with_active({status_fault(0.0), b}, 3);
  seq = sequence(with_active, 50);
  for (auto& i : seq) i = i == 1 ? 0 : i;
  EXPECT_NE(seq, reference);
}

TEST(fault_injector, drops_faults_it_cannot_carry_out) {
  auto reset = status_fault(1.0);
  reset.kind = "out_of_order";  // in the catalog, not supported
  auto unknown = status_fault(1.0);
  unknown.kind = "gremlins";
  auto informational = status_fault(1.0);
  informational.status = 100;
  plan::fault utf8;
  utf8.kind = "slow_body";
  utf8.chunks = 0;  // nothing to send the body in
  plan::fault hang;
  hang.kind = "hang";
  fault_injector inj({reset, unknown, informational, utf8, hang}, 1);
  EXPECT_EQ(inj.ignored(), 4u);
  ASSERT_EQ(inj.faults().size(), 1u);
  EXPECT_EQ(inj.faults()[0].kind, "hang");
  EXPECT_EQ(inj.decide("a", 0ms), std::optional<std::size_t>(0));
}

TEST(fault_injector, count_selectors_pick_requests_by_their_place_in_scope) {
  auto first = status_fault(1.0);
  first.first = 3;
  fault_injector a({first}, 1);
  EXPECT_EQ(sequence(a, 6), (std::vector<int>{0, 0, 0, -1, -1, -1}));

  auto every = status_fault(1.0);
  every.every = 3;
  fault_injector b({every}, 1);
  EXPECT_EQ(sequence(b, 7), (std::vector<int>{-1, -1, 0, -1, -1, 0, -1}));

  auto after = status_fault(1.0);
  after.after = 4;
  fault_injector c({after}, 1);
  EXPECT_EQ(sequence(c, 6), (std::vector<int>{-1, -1, -1, -1, 0, 0}));

  // Only requests in scope count: out of the window or for another endpoint they do not.
  auto windowed = status_fault(1.0);
  windowed.first = 1;
  windowed.during = {{10s, 20s}};
  windowed.endpoint = "a";
  fault_injector d({windowed}, 1);
  EXPECT_FALSE(d.decide("a", 5s));
  EXPECT_FALSE(d.decide("b", 15s));
  EXPECT_TRUE(d.decide("a", 15s));
  EXPECT_FALSE(d.decide("a", 16s));
}

TEST(fault_injector, several_windows) {
  auto f = status_fault(1.0);
  f.during = {{10s, 20s}, {30s, 40s}};
  fault_injector inj({f}, 1);
  EXPECT_FALSE(inj.decide("a", 5s));
  EXPECT_TRUE(inj.decide("a", 10s));
  EXPECT_FALSE(inj.decide("a", 25s));
  EXPECT_TRUE(inj.decide("a", 39s));
  EXPECT_FALSE(inj.decide("a", 40s));
}

TEST(fault_injector, latency_distributions_stay_in_their_bounds_and_repeat_for_a_seed) {
  plan::fault uniform;
  uniform.kind = "latency";
  uniform.latency.distribution = plan::latency_distribution::uniform;
  uniform.latency.min = 50ms;
  uniform.latency.max = 150ms;
  plan::fault lognormal;
  lognormal.kind = "latency";
  lognormal.latency.distribution = plan::latency_distribution::lognormal;
  lognormal.latency.median = 100ms;
  lognormal.latency.sigma = 1.0;
  lognormal.latency.cap = 400ms;
  auto draws = [](const plan::fault& f, std::uint64_t seed) {
    fault_injector inj({f}, seed);
    std::vector<core::duration> out;
    for (int i = 0; i < 2000; ++i) out.push_back(inj.decide("a", 0ms, "", [](std::string_view) { return std::string_view(); })->delay);
    return out;
  };
  const auto u = draws(uniform, 7);
  EXPECT_EQ(u, draws(uniform, 7));
  EXPECT_NE(u, draws(uniform, 8));
  EXPECT_GE(*std::min_element(u.begin(), u.end()), 50ms);
  EXPECT_LE(*std::max_element(u.begin(), u.end()), 150ms);
  const auto l = draws(lognormal, 7);
  auto sorted = l;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_LE(sorted.back(), 400ms);
  EXPECT_EQ(sorted.back(), 400ms) << "sigma 1 reaches the cap in 2000 draws";
  // The median of the draws is near the plan's median (lognormal: exp(N(ln m, s)) has median m).
  EXPECT_GT(sorted[1000], 85ms);
  EXPECT_LT(sorted[1000], 115ms);
}

TEST(fault_injector, rate_limit_buckets_refill_in_plan_time_and_are_bounded) {
  plan::fault f;
  f.kind = "rate_limit";
  f.status = 429;
  f.limit = 10;  // a bucket of 10, one token per 100 ms
  fault_injector inj({f}, 1);
  auto take = [&](std::string_view key, core::duration at) {
    return inj.decide("a", at, key, [](std::string_view) { return std::string_view(); });
  };
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(take("k", 0ms)) << i;
  const auto limited = take("k", 0ms);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->retry_after, std::optional<core::duration>(100ms));
  EXPECT_DOUBLE_EQ(limited->bucket_size, 10);
  EXPECT_EQ(limited->bucket_window, 1s);
  EXPECT_FALSE(take("other", 0ms)) << "each credential has its own bucket";
  EXPECT_FALSE(take("k", 100ms));
  EXPECT_TRUE(take("k", 100ms));
  // Invented keys beyond the bound share one overflow bucket instead of growing memory.
  for (std::size_t i = 0; i < fault_injector::max_buckets + 20; ++i) (void)take(std::to_string(i), 1h);
  EXPECT_TRUE(take("yet-another-key", 1h)) << "the overflow bucket is empty by now";
}

TEST(fault_injector, pagination_faults_apply_only_where_their_breakage_can_show) {
  auto fault_for = [](plan::page_breakage b) {
    plan::fault f;
    f.kind = "pagination";
    f.breakage = b;
    f.status = 400;
    return f;
  };
  const auto none = [](std::string_view) { return std::string_view(); };
  const page_scope plain{}, first{true, false, false}, cursor_at_start{true, true, false}, later{true, true, true};
  using plan::page_breakage;
  for (auto [b, applies] : {std::pair{page_breakage::invalid_cursor, std::array{false, false, true, true}},
                            std::pair{page_breakage::short_page, std::array{false, true, true, true}},
                            std::pair{page_breakage::repeated_page, std::array{false, false, false, true}},
                            std::pair{page_breakage::shifted_page, std::array{false, false, false, true}}}) {
    fault_injector inj({fault_for(b)}, 1);
    const std::array scopes{plain, first, cursor_at_start, later};
    for (std::size_t i = 0; i < scopes.size(); ++i) {
      EXPECT_EQ(inj.decide("list", 0s, "", none, scopes[i]).has_value(), applies[i])
          << plan::to_string(b) << " scope " << i;
    }
  }
  // Out of scope means not counted either: `first: 1` is spent on the first page it can break.
  auto once = fault_for(page_breakage::repeated_page);
  once.first = 1;
  fault_injector inj({once}, 1);
  EXPECT_FALSE(inj.decide("list", 0s, "", none, first));
  EXPECT_TRUE(inj.decide("list", 0s, "", none, later));
  EXPECT_FALSE(inj.decide("list", 0s, "", none, later));
}

TEST(fault_injector, is_injectable_accepts_the_supported_kinds) {
  plan::fault f;
  for (const char* kind : {"status", "latency", "hang", "reset", "empty_reply", "close", "slow_body", "malformed",
                           "outage", "rate_limit", "auth_expiry", "token_endpoint_down", "pagination", "tls"}) {
    f.kind = kind;
    EXPECT_TRUE(is_injectable(f)) << kind;
  }
  // Known kinds this version does not inject, and typed kinds without what they need to do anything.
  for (const char* kind : {"duplicate_delivery", "out_of_order", "bad_signature", "burst"}) {
    f.kind = kind;
    EXPECT_FALSE(is_injectable(f)) << kind;
  }
  f.kind = "pagination";
  f.status = 100;
  EXPECT_FALSE(is_injectable(f)) << "invalid_cursor answering 1xx";
  f.breakage = plan::page_breakage::short_page;
  EXPECT_TRUE(is_injectable(f)) << "no status needed";
  f.status = 503;
  f.kind = "schema_drift";
  EXPECT_FALSE(is_injectable(f)) << "no field to drift";
  f.drop = {"id"};
  EXPECT_TRUE(is_injectable(f));
  f.kind = "rate_limit";
  f.limit = 0;
  EXPECT_FALSE(is_injectable(f));
  f.kind = "outage";
  f.up = 1s;
  EXPECT_FALSE(is_injectable(f)) << "up without down";
  f = plan::fault{};
  f.kind = "tls";
  f.endpoint = "items";
  EXPECT_FALSE(is_injectable(f)) << "a handshake has no endpoint";
}

TEST(fault_injector, tls_faults_pick_handshakes_and_count_connections_only) {
  plan::fault tls;
  tls.kind = "tls";
  tls.tls = plan::handshake_fault::untrusted_certificate;
  tls.first = 2;
  plan::fault status;
  status.kind = "status";
  status.status = 503;
  status.first = 1;
  fault_injector inj({tls, status}, 1);
  // Requests neither see the tls fault nor move its count...
  EXPECT_EQ(inj.decide("items", 0s), std::optional<std::size_t>(1));
  EXPECT_EQ(inj.decide("items", 0s), std::nullopt);
  // ...and handshakes see nothing else: the first two connections fail, the third does not.
  EXPECT_EQ(inj.decide(fault_injector::handshake, 0s), std::optional<std::size_t>(0));
  EXPECT_EQ(inj.decide(fault_injector::handshake, 0s), std::optional<std::size_t>(0));
  EXPECT_EQ(inj.decide(fault_injector::handshake, 0s), std::nullopt);
}

}  // namespace
}  // namespace planproof::mocks
