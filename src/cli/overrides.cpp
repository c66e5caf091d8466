// Options shared by the commands that load a plan: `--set KEY=VALUE`, and `--log FILE` for those
// that drive the client.
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

bool open_decision_log(const std::string& path, std::unique_ptr<scenario::event_log>& log) {
  if (path.empty()) return true;
  std::string why;
  log = scenario::event_log::open(path, why);
  if (!log) std::cerr << "--log: error: cannot write " << path << ": " << why << '\n';
  return log != nullptr;
}

}  // namespace planproof::cli
