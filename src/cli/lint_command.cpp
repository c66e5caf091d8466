// `planproof lint PLAN`: the plan's self-review, as compiler-style findings or JSON for tools.
#include <algorithm>
#include <iomanip>
#include <iostream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "plan/lint.hpp"
#include "plan/loader.hpp"

namespace planproof::cli {
namespace {

struct lint_args {
  std::string plan;
  std::string format = "text";
  std::vector<std::string> ignore;
  std::vector<std::string> sets;
  std::vector<std::string> limits;  // --limit NAME=VALUE
  bool strict = false;
  bool list_rules = false;
};

std::string count(std::size_t n, std::string_view what) {
  return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

void list_rules(std::ostream& out) {
  std::size_t width = 0;
  for (const auto& r : plan::lint_rules()) width = std::max(width, r.id.size());
  for (const auto& r : plan::lint_rules()) {
    out << std::left << std::setw(static_cast<int>(width) + 2) << r.id << std::setw(9)
        << core::to_string(r.level) << r.summary << '\n';
  }
}

boost::json::object to_json(const core::diagnostic& d) {
  boost::json::object o;
  o["rule"] = d.rule.empty() ? boost::json::value(nullptr) : boost::json::value(d.rule);
  o["severity"] = core::to_string(d.level);
  o["file"] = d.where.file;
  o["line"] = d.where.line;
  o["column"] = d.where.column;
  o["message"] = d.message;
  return o;
}

int execute(const lint_args& args) {
  for (const auto& id : args.ignore) {
    if (plan::find_lint_rule(id) == nullptr) {
      std::cerr << "--ignore: error: no lint rule '" << id << "' (planproof lint --list-rules lists them)\n";
      return exit_usage;
    }
  }
  const auto load = load_options_from(args.sets, args.limits);
  if (!load) return exit_usage;

  std::vector<core::diagnostic> findings;
  bool loaded = true;
  try {
    findings = plan::lint(plan::load_file(args.plan, *load));
  } catch (const core::diagnostic_error& e) {
    findings = e.diagnostics();
    loaded = false;
  }
  std::erase_if(findings, [&](const core::diagnostic& d) {
    return std::find(args.ignore.begin(), args.ignore.end(), d.rule) != args.ignore.end();
  });
  if (args.strict) {
    for (auto& d : findings) d.level = core::severity::error;
  }
  const auto errors = static_cast<std::size_t>(std::count_if(
      findings.begin(), findings.end(), [](const auto& d) { return d.level == core::severity::error; }));
  const auto warnings = findings.size() - errors;
  const int code = errors > 0 ? exit_usage : exit_held;

  if (args.format == "json") {
    boost::json::array list;
    for (const auto& d : findings) list.push_back(to_json(d));
    boost::json::object report{{"file", args.plan},
                               {"loaded", loaded},
                               {"errors", errors},
                               {"warnings", warnings},
                               {"findings", std::move(list)}};
    std::cout << boost::json::serialize(report) << '\n';
    return std::cout ? code : exit_harness_error;
  }
  // Findings that keep the plan from loading are what render and run print too: on standard error.
  std::ostream& out = loaded ? std::cout : std::cerr;
  for (const auto& d : findings) out << d.str() << '\n';
  if (loaded) {
    std::cout << args.plan << ": "
              << (findings.empty() ? std::string("no findings") : count(errors, "error") + ", " + count(warnings, "warning"))
              << '\n';
  }
  return std::cout ? code : exit_harness_error;
}

}  // namespace

command add_lint_command(CLI::App& app) {
  auto args = std::make_shared<lint_args>();
  auto* cmd = app.add_subcommand(
      "lint",
      "Review the plan: the six artifacts present and complete, retry settings consistent with the endpoints\n"
      "and deadlines, every retried condition exercised by a failure mode, every fault classified, phases\n"
      "that build on each other, no secrets written in the clear. Findings are FILE:LINE:COL: error|warning:\n"
      "message [rule-id]. Exit 0 when there are no errors (warnings allowed), 2 with errors or when the plan\n"
      "does not load.");
  cmd->add_option("PLAN", args->plan, "The plan file (YAML or JSON)");
  cmd->add_option("--format", args->format, "text (default) or json: {file, loaded, errors, warnings, findings[]}")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--strict", args->strict, "Count warnings as errors (exit 2 on any finding)");
  repeatable(cmd->add_option("--ignore", args->ignore, "Drop findings of this rule id (repeatable)"));
  repeatable(cmd->add_option("--set", args->sets, "Override a plan value before linting, as with run (repeatable)"));
  add_limit_option(cmd, args->limits);
  cmd->add_flag("--list-rules", args->list_rules, "List every rule: id, severity, what it checks");
  return {cmd, [args]() -> int {
            if (args->list_rules) {
              list_rules(std::cout);
              return exit_held;
            }
            if (args->plan.empty()) {
              std::cerr << "planproof lint: PLAN is required (or --list-rules)\n";
              return exit_usage;
            }
            return execute(*args);
          }};
}

}  // namespace planproof::cli
