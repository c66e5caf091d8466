// Randomness as an injected dependency: policies draw from a random_source, so tests can fix the
// draws and a seed reproduces a run.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace planproof::resilience {

class random_source {
 public:
  virtual ~random_source() = default;
  virtual std::uint64_t next_u64() = 0;
  // Uniform in [0, 1), from the top 53 bits.
  double next_unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
};

class seeded_random final : public random_source {
 public:
  explicit seeded_random(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next_u64() override { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// Replays the given values in a loop: for tests that pin every draw.
class fixed_random final : public random_source {
 public:
  explicit fixed_random(std::vector<std::uint64_t> values) : values_(std::move(values)) {}
  std::uint64_t next_u64() override {
    const auto v = values_.empty() ? 0 : values_[next_ % values_.size()];
    ++next_;
    return v;
  }
  // A draw that next_unit() maps to `unit` (0 <= unit < 1).
  static std::uint64_t for_unit(double unit) {
    return static_cast<std::uint64_t>(unit * 0x1.0p53) << 11;
  }

 private:
  std::vector<std::uint64_t> values_;
  std::size_t next_ = 0;
};

}  // namespace planproof::resilience
