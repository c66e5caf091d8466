// How much slower than real time tests run their plan clocks under a sanitizer.
#pragma once

#include <algorithm>
#include <cstdlib>

namespace planproof::test {

// A sanitizer slows the code several times over, and a client or run at a small time scale would then
// judge the slowdown rather than the plan (a 1 s plan timeout is 50 ms of real time at 0.05).
// PLANPROOF_TEST_TIME_STRETCH (a whole number, set by the asan and tsan test presets) multiplies every
// time scale a test asks for, up to real time (1).
inline int time_stretch() {
  const char* env = std::getenv("PLANPROOF_TEST_TIME_STRETCH");
  const int n = env == nullptr ? 1 : std::atoi(env);
  return n > 1 ? n : 1;
}

// `scale` stretched by `stretch`: what an in-process clock or run uses when a test asks for `scale`.
inline double stretched(double scale, int stretch = time_stretch()) {
  return scale < 1.0 ? std::min(1.0, scale * stretch) : scale;
}

}  // namespace planproof::test
