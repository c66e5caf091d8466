// Loading and linting the example plans: what `planproof run` pays before any traffic, and what
// `lint` in an editor or a pre-commit hook would pay on every save.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "plan/lint.hpp"
#include "plan/loader.hpp"

namespace {

std::string read_example(const std::string& name) {
  std::ifstream in(std::string(PLANPROOF_SOURCE_DIR) + "/scenarios/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void load_plan(benchmark::State& state, const std::string& name) {
  const std::string text = read_example(name);
  for (auto _ : state) benchmark::DoNotOptimize(planproof::plan::load_string(text, name));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK_CAPTURE(load_plan, payments, std::string("payments.plan.yaml"));
BENCHMARK_CAPTURE(load_plan, hr_sync, std::string("hr-sync.plan.yaml"));

// Lint alone, on an already loaded plan: every rule over the largest example.
void lint_plan(benchmark::State& state, const std::string& name) {
  const auto plan = planproof::plan::load_string(read_example(name), name);
  for (auto _ : state) benchmark::DoNotOptimize(planproof::plan::lint(plan));
}
BENCHMARK_CAPTURE(lint_plan, payments, std::string("payments.plan.yaml"));
BENCHMARK_CAPTURE(lint_plan, hr_sync, std::string("hr-sync.plan.yaml"));

}  // namespace
