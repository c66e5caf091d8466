// `planproof render PLAN [-o FILE]`: the plan as a Markdown document.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/file_io.hpp"
#include "plan/loader.hpp"
#include "plan/render.hpp"

namespace planproof::cli {

command add_render_command(CLI::App& app) {
  struct render_args {
    std::string plan;
    std::string output;
    std::vector<std::string> limits;  // --limit NAME=VALUE
  };
  auto args = std::make_shared<render_args>();
  auto* cmd = app.add_subcommand(
      "render", "Write the plan as a Markdown document: assumptions, then the six sections (auth method,\n"
                "endpoint specs, data mapping, retry logic, failure modes, phase 1 vs phase 2 plan).");
  cmd->add_option("PLAN", args->plan, "The plan file (YAML or JSON)")->required();
  cmd->add_option("-o,--output", args->output, "Write to FILE instead of standard output");
  add_limit_option(cmd, args->limits);
  return {cmd, [args]() -> int {
            const auto load = load_options_from({}, args->limits);
            if (!load) return exit_usage;
            std::string text;
            try {
              text = plan::render_markdown(plan::load_file(args->plan, *load));
            } catch (const core::diagnostic_error& e) {
              for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
              return exit_usage;
            }
            if (args->output.empty()) {
              std::cout << text;
              return std::cout ? exit_held : exit_harness_error;
            }
            if (auto ec = core::write_file_atomically(args->output, text)) {
              std::cerr << "planproof: cannot write " << args->output << ": " << ec.message() << '\n';
              return exit_harness_error;
            }
            return exit_held;
          }};
}

}  // namespace planproof::cli
