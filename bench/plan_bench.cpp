// Loading the example plan: what `planproof run` pays before any traffic, and what `lint` in an
// editor would pay on every keystroke.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "plan/loader.hpp"

namespace {

void load_payments_plan(benchmark::State& state) {
  std::ifstream in(std::string(PLANPROOF_SOURCE_DIR) + "/scenarios/payments.plan.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  for (auto _ : state) benchmark::DoNotOptimize(planproof::plan::load_string(text, "payments.plan.yaml"));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(load_payments_plan);

}  // namespace
