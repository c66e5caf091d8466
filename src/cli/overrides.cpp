// Options shared by the commands that load a plan: `--set KEY=VALUE`, `--limit NAME=VALUE`, and
// `--log FILE` for those that drive the client.
#include <iostream>

#include "cli/commands.hpp"

namespace planproof::cli {

void add_limit_option(CLI::App* cmd, std::vector<std::string>& limits) {
  std::string help =
      "Set a cap on what planproof reads and holds, NAME=VALUE (repeatable); sizes in bytes or with\n"
      "KiB, MiB, GiB. Going over one is an error (a plan) or 413/431 (a mock), never unbounded memory:";
  const core::limits defaults;
  for (const auto& info : core::limit_catalog()) {
    help += "\n  " + std::string(info.name) + " (" + core::format_limit(info, defaults.*(info.field)) + "): " +
            std::string(info.what);
  }
  repeatable(cmd->add_option("--limit", limits, help))->type_name("NAME=VALUE");
}

std::optional<plan::load_options> load_options_from(const std::vector<std::string>& sets,
                                                    const std::vector<std::string>& limits) {
  plan::load_options load;
  for (const auto& l : limits) {
    if (auto why = core::set_limit(load.limits, l); !why.empty()) {
      std::cerr << "--limit: error: " << why << '\n';
      return std::nullopt;
    }
  }
  for (const auto& s : sets) {
    auto o = plan::parse_override(s);
    if (!o) {
      std::cerr << "--set: error: '" << s << "' is not KEY=VALUE (e.g. --set retry.max_attempts=1)\n";
      return std::nullopt;
    }
    load.overrides.push_back(std::move(*o));
  }
  return load;
}

bool open_decision_log(const std::string& path, std::unique_ptr<scenario::event_log>& log) {
  if (path.empty()) return true;
  std::string why;
  log = scenario::event_log::open(path, why);
  if (!log) std::cerr << "--log: error: cannot write " << path << ": " << why << '\n';
  return log != nullptr;
}

}  // namespace planproof::cli
