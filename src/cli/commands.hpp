// Subcommands: each registers its options on the CLI11 app and returns the action to run.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace planproof::cli {

// A registered subcommand and what to do when it is the one given.
struct command {
  CLI::App* app = nullptr;
  std::function<int()> action;
};

command add_run_command(CLI::App& app);
command add_render_command(CLI::App& app);
command add_new_command(CLI::App& app);
command add_import_openapi_command(CLI::App& app);

}  // namespace planproof::cli
