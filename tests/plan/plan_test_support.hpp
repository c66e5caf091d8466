// Helpers shared by the plan tests: fixtures, textual mutation of a plan, and errors as printed.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "plan/loader.hpp"
#include "support/paths.hpp"

namespace planproof::plan::test_support {

inline const std::filesystem::path data_dir = std::filesystem::path(::planproof::test::source_dir()) / "tests/plan/data";

inline std::string read_fixture(const std::string& name) {
  std::ifstream in(data_dir / name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with the first `from` replaced by `to`; the positions tests assert are in the fixture.
inline std::string mutate(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "fixture has no '" << from << "'";
    return text;
  }
  return text.replace(at, from.size(), to);
}

// A small valid plan with `tail` appended from line 8 on. A top-level section in `tail` replaces the
// default one, whose line is left as a comment so that line numbers stay put:
//   1 planproof: 1                      5 retry: {max_attempts: 1}
//   2 integration: {name: x}            6 traffic: {endpoint: e, rate: 1/s, duration: 1s}
//   3 auth: {method: none}              7 failure_modes: [{id: f, inject: {fault: hang}}]
//   4 endpoints: [{id: e, path: /}]
inline std::string small_plan(std::string_view tail) {
  static const std::vector<std::pair<std::string, std::string>> defaults{
      {"planproof", "planproof: 1"},
      {"integration", "integration: {name: x}"},
      {"auth", "auth: {method: none}"},
      {"endpoints", "endpoints: [{id: e, path: /}]"},
      {"retry", "retry: {max_attempts: 1}"},
      {"traffic", "traffic: {endpoint: e, rate: 1/s, duration: 1s}"},
      {"failure_modes", "failure_modes: [{id: f, inject: {fault: hang}}]"},
  };
  std::vector<std::string> replaced;
  std::size_t start = 0;
  while (start < tail.size()) {
    auto end = tail.find('\n', start);
    if (end == std::string_view::npos) end = tail.size();
    const auto line = tail.substr(start, end - start);
    if (!line.empty() && line.front() != ' ' && line.front() != '-' && line.front() != '#') {
      replaced.emplace_back(line.substr(0, line.find(':')));
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& [key, text] : defaults) {
    const bool gone = std::find(replaced.begin(), replaced.end(), key) != replaced.end();
    out += (gone ? "# " + key + " below" : text) + "\n";
  }
  return out + std::string(tail) + (tail.ends_with('\n') ? "" : "\n");
}

inline integration_plan load_small(std::string_view tail, const load_options& options = {}) {
  return load_string(small_plan(tail), "plan.yaml", options);
}

inline std::vector<std::string> errors_of(std::string_view text, const load_options& options = {}) {
  try {
    load_string(text, "plan.yaml", options);
  } catch (const core::diagnostic_error& e) {
    std::vector<std::string> out;
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  ADD_FAILURE() << "the plan loaded without errors";
  return {};
}

inline std::vector<std::string> small_errors(std::string_view tail, const load_options& options = {}) {
  return errors_of(small_plan(tail), options);
}

inline load_options with_sets(std::initializer_list<std::string_view> sets) {
  load_options options;
  for (auto s : sets) {
    auto o = parse_override(s);
    EXPECT_TRUE(o) << s;
    if (o) options.overrides.push_back(*o);
  }
  return options;
}

// Seeded truncations of `good`, then seeded mutations (replaced, erased and inserted characters, and
// whole lines moved so keys land in the wrong map), each handed to `check(text, what)`. Fixed seeds:
// a failure must reproduce.
template <class Check>
void for_each_mutation(const std::string& good, unsigned seed, int truncations, int mutations,
                       std::string_view alphabet, Check check) {
  std::mt19937 random(seed);
  for (int i = 0; i < truncations; ++i) {
    const auto cut = std::uniform_int_distribution<std::size_t>(0, good.size())(random);
    check(good.substr(0, cut), "truncated at " + std::to_string(cut));
  }
  for (int i = 0; i < mutations; ++i) {
    std::string text = good;
    const int edits = std::uniform_int_distribution<int>(1, 6)(random);
    for (int e = 0; e < edits; ++e) {
      const auto at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(random);
      switch (std::uniform_int_distribution<int>(0, 3)(random)) {
        case 0: text[at] = alphabet[random() % alphabet.size()]; break;
        case 1: text.erase(at, std::uniform_int_distribution<std::size_t>(1, 20)(random)); break;
        case 2: text.insert(at, 1, alphabet[random() % alphabet.size()]); break;
        default: {
          const auto start = text.rfind('\n', at);
          const auto end = text.find('\n', at);
          if (start == std::string::npos || end == std::string::npos) break;
          const auto line = text.substr(start, end - start);
          text.erase(start, end - start);
          text.insert(std::uniform_int_distribution<std::size_t>(0, text.size())(random), line);
        }
      }
    }
    check(text, "mutation " + std::to_string(i));
  }
}

inline std::string condition_text(const retry_condition& c) {
  if (const int* status = std::get_if<int>(&c)) return std::to_string(*status);
  return std::string(core::to_string(std::get<core::error_class>(c)));
}

inline std::vector<std::string> conditions_text(const std::vector<retry_condition>& conditions) {
  std::vector<std::string> out;
  for (const auto& c : conditions) out.push_back(condition_text(c));
  return out;
}

inline std::vector<std::string> retry_on_text(const retry_config& r) { return conditions_text(r.retry_on); }

}  // namespace planproof::plan::test_support
