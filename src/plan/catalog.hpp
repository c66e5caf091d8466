// The names the plan format knows for faults and expectations, and which of them this build can run.
// A known name that cannot run yet makes its failure mode `skipped` with a reason, never a silent pass;
// an unknown name is a plan error.
#pragma once

#include <span>
#include <string_view>

namespace planproof::plan {

struct catalog_entry {
  std::string_view name;
  bool supported;
  std::string_view summary;
};

std::span<const catalog_entry> fault_catalog() noexcept;
std::span<const catalog_entry> expectation_catalog() noexcept;
const catalog_entry* find_fault(std::string_view name) noexcept;
const catalog_entry* find_expectation(std::string_view name) noexcept;

}  // namespace planproof::plan
