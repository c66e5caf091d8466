// The names the plan format knows for faults and expectations, and which of them this build can run.
// A known name that cannot run yet makes its failure mode `skipped` with a reason, never a silent pass;
// an unknown name is a plan error.
#pragma once

#include <span>
#include <string_view>

namespace planproof::plan {

// What an expectation's value is written as: `success_rate: ">= 0.99"`, `lost: 0`,
// `fails_fast: true`, `recovers_within: 45s`, `detected_as: schema_error`,
// `upstream_amplification: "<= 1.5"` (a factor), `peak_upstream_rate: "<= 40/s"` (a rate).
enum class expectation_value { none, count, ratio, boolean, duration, text, factor, rate };

struct catalog_entry {
  std::string_view name;
  bool supported;  // this build carries it out
  std::string_view summary;
  // A webhook provider's fault: injected into the deliveries the mock sends to the receiver (the
  // app under `serve --deliver-to`, the plan's own receiver under `run`), not into answers.
  bool provider = false;
  expectation_value value = expectation_value::none;  // expectations only
};

std::span<const catalog_entry> fault_catalog() noexcept;
std::span<const catalog_entry> expectation_catalog() noexcept;
const catalog_entry* find_fault(std::string_view name) noexcept;
const catalog_entry* find_expectation(std::string_view name) noexcept;

}  // namespace planproof::plan
