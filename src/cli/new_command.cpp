// `planproof new NAME [--system S] [-o FILE]`: a skeleton plan with all six sections.
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/file_io.hpp"
#include "plan/skeleton.hpp"

namespace planproof::cli {

command add_new_command(CLI::App& app) {
  struct new_args {
    std::string name;
    std::string system;
    std::string output;
    bool force = false;
  };
  auto args = std::make_shared<new_args>();
  auto* cmd = app.add_subcommand("new", "Write a skeleton plan with all six sections, ready to fill in.");
  cmd->add_option("NAME", args->name, "Integration name, e.g. acme-payments")->required();
  cmd->add_option("--system", args->system, "The external system, e.g. \"Stripe\"");
  cmd->add_option("-o,--output", args->output, "File to write (default NAME.plan.yaml; - for standard output)");
  cmd->add_flag("--force", args->force, "Overwrite an existing file");
  return {cmd, [args]() -> int {
            if (args->name.empty() || args->name.find_first_of("/\\\n") != std::string::npos) {
              std::cerr << "new: error: NAME must be a non-empty name without slashes or line breaks\n";
              return exit_usage;
            }
            const std::string text = plan::skeleton_plan(args->name, args->system);
            if (args->output == "-") {
              std::cout << text;
              return exit_held;
            }
            const std::string path = args->output.empty() ? args->name + ".plan.yaml" : args->output;
            if (!args->force && std::filesystem::exists(path)) {
              std::cerr << "new: error: " << path << " exists; use --force to overwrite it\n";
              return exit_usage;
            }
            if (auto ec = core::write_file_atomically(path, text)) {
              std::cerr << "planproof: cannot write " << path << ": " << ec.message() << '\n';
              return exit_harness_error;
            }
            std::cout << "wrote " << path << '\n';
            return exit_held;
          }};
}

}  // namespace planproof::cli
