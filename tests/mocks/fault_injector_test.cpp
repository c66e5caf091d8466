#include "mocks/fault_injector.hpp"

#include <algorithm>

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
  f.from = 10s;
  f.to = 20s;
  fault_injector inj({f}, 1);
  EXPECT_FALSE(inj.decide("a", 10s - 1ns));
  EXPECT_TRUE(inj.decide("a", 10s));
  EXPECT_TRUE(inj.decide("a", 20s - 1ns));
  EXPECT_FALSE(inj.decide("a", 20s));

  f.to.reset();
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
  later.from = 1h;
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
  reset.kind = "reset";  // in the catalog, not supported
  auto unknown = status_fault(1.0);
  unknown.kind = "gremlins";
  auto informational = status_fault(1.0);
  informational.status = 100;
  plan::fault utf8;
  utf8.kind = "malformed";
  utf8.malformed = "invalid_utf8";
  plan::fault hang;
  hang.kind = "hang";
  fault_injector inj({reset, unknown, informational, utf8, hang}, 1);
  EXPECT_EQ(inj.ignored(), 4u);
  ASSERT_EQ(inj.faults().size(), 1u);
  EXPECT_EQ(inj.faults()[0].kind, "hang");
  EXPECT_EQ(inj.decide("a", 0ms), std::optional<std::size_t>(0));
}

TEST(fault_injector, is_injectable_accepts_the_supported_kinds) {
  plan::fault f;
  for (const char* kind : {"status", "latency", "hang", "malformed"}) {
    f.kind = kind;
    EXPECT_TRUE(is_injectable(f)) << kind;
  }
  f.kind = "slow_body";
  EXPECT_FALSE(is_injectable(f));
}

}  // namespace
}  // namespace planproof::mocks
