// Subcommands: each registers its options on the CLI11 app and returns the action to run.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace planproof::cli {

using command_action = std::function<int()>;

command_action add_run_command(CLI::App& app);

}  // namespace planproof::cli
