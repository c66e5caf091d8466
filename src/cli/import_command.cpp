// `planproof import-openapi SPEC [-o PLAN] [--force]`: a draft plan from an OpenAPI 3.0/3.1 document.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/file_io.hpp"
#include "plan/openapi_import.hpp"

namespace planproof::cli {
namespace {

// Specs run to a few megabytes (Stripe's is ~6 MB); anything far beyond is not one.
constexpr std::uintmax_t max_spec_bytes = 64u << 20;

}  // namespace

command add_import_openapi_command(CLI::App& app) {
  struct import_args {
    std::string spec;
    std::string output;
    bool force = false;
  };
  auto args = std::make_shared<import_args>();
  auto* cmd = app.add_subcommand(
      "import-openapi", "Write a draft plan from an OpenAPI 3.0/3.1 document (YAML or JSON): endpoints, auth,\n"
                        "schemas and statuses from the spec; the other sections as placeholders to fill in.");
  cmd->add_option("SPEC", args->spec, "The OpenAPI document")->required();
  cmd->add_option("-o,--output", args->output, "Plan file to write (default standard output; - for standard output)");
  cmd->add_flag("--force", args->force, "Overwrite an existing file");
  return {cmd, [args]() -> int {
            const std::string& spec = args->spec;
            std::error_code ec;
            const auto size = std::filesystem::file_size(spec, ec);
            std::ifstream in(spec, std::ios::binary);
            if (ec || !in) {
              std::cerr << spec << ": error: cannot read the file" << (ec ? ": " + ec.message() : std::string()) << '\n';
              return exit_usage;
            }
            if (size > max_spec_bytes) {
              std::cerr << spec << ": error: the file is over " << (max_spec_bytes >> 20) << " MB; not an API description\n";
              return exit_usage;
            }
            std::ostringstream text;
            text << in.rdbuf();
            if (in.bad()) {
              std::cerr << spec << ": error: cannot read the file\n";
              return exit_usage;
            }
            const bool to_stdout = args->output.empty() || args->output == "-";
            // Checked before the work, so a refused overwrite costs nothing and prints no warnings.
            if (!to_stdout && !args->force && std::filesystem::exists(args->output)) {
              std::cerr << "import-openapi: error: " << args->output << " exists; use --force to overwrite it\n";
              return exit_usage;
            }
            plan::openapi_import_result result;
            try {
              result = plan::import_openapi(text.str(), spec);
            } catch (const core::diagnostic_error& e) {
              for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
              return exit_usage;
            }
            for (const auto& w : result.warnings) std::cerr << w.str() << '\n';
            if (to_stdout) {
              std::cout << result.plan_yaml;
              return std::cout ? exit_held : exit_harness_error;
            }
            if (auto wec = core::write_file_atomically(args->output, result.plan_yaml)) {
              std::cerr << "planproof: cannot write " << args->output << ": " << wec.message() << '\n';
              return exit_harness_error;
            }
            std::cerr << "wrote " << args->output << '\n';
            return exit_held;
          }};
}

}  // namespace planproof::cli
