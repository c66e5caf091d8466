// planproof: make an integration plan executable.
#include <csignal>
#include <iostream>
#include <vector>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

int main(int argc, char** argv) {
  using namespace planproof::cli;
  // A reader closing our stdout (`planproof run ... | head`) must not kill a run midway.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "planproof: checks that an integration plan's retry, timeout and dead-letter promises survive the\n"
      "failure modes it lists, by running a real client against fault-injecting mock upstreams on loopback.\n"
      "Exit codes: 0 every failure mode held, 1 one broken or skipped, 2 invalid plan or usage, 3 harness error.",
      "planproof"};
  app.set_version_flag("--version", "planproof 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();

  const std::vector<command> commands{add_run_command(app), add_sim_command(app), add_sweep_command(app), add_merge_command(app), add_lint_command(app),
                                       add_render_command(app), add_new_command(app), add_import_openapi_command(app),
                                       add_serve_command(app), add_dlq_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  try {
    for (const auto& c : commands) {
      if (c.app->parsed()) return c.action();
    }
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "planproof: internal error: " << e.what() << '\n';
    return exit_harness_error;
  }
}
