// `--set KEY=VALUE`, shared by the commands that load a plan.
#include <iostream>

#include "cli/commands.hpp"

namespace planproof::cli {

std::optional<plan::load_options> load_options_from(const std::vector<std::string>& sets) {
  plan::load_options load;
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

}  // namespace planproof::cli
