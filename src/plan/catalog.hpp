// The names the plan format knows for faults and expectations, and which of them this build can run.
// A known name that cannot run yet makes its failure mode `skipped` with a reason, never a silent pass;
// an unknown name is a plan error.
#pragma once

#include <span>
#include <string_view>

namespace planproof::plan {

struct catalog_entry {
  std::string_view name;
  bool supported;  // this build carries it out
  std::string_view summary;
  // A webhook provider's fault: `planproof serve --deliver-to` injects it into the deliveries it
  // sends, but `planproof run` cannot drive an inbound stream yet, so run skips its failure mode.
  bool provider = false;
};

std::span<const catalog_entry> fault_catalog() noexcept;
std::span<const catalog_entry> expectation_catalog() noexcept;
const catalog_entry* find_fault(std::string_view name) noexcept;
const catalog_entry* find_expectation(std::string_view name) noexcept;

}  // namespace planproof::plan
