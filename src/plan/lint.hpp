// `planproof lint`: the plan's self-review. Rules read the loaded plan (and where each value was
// written) and say what a reviewer would: a section is missing, a retry setting contradicts an
// endpoint, a promise cannot be checked, a secret is written in the clear.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/diagnostic.hpp"
#include "plan/model.hpp"

namespace planproof::plan {

// Errors: the plan contradicts itself, promises what its settings cannot deliver, or is unsafe.
// Warnings: the plan is incomplete or takes a risk a reviewer should see. Ids never change meaning.
struct lint_rule {
  std::string_view id;
  core::severity level;
  std::string_view summary;  // one line, for `lint --list-rules` and the README
};

std::span<const lint_rule> lint_rules() noexcept;
const lint_rule* find_lint_rule(std::string_view id) noexcept;

// Every finding, in file order (findings without a place in the file last), each with its rule id.
std::vector<core::diagnostic> lint(const integration_plan& plan);

}  // namespace planproof::plan
