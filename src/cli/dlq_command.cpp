// `planproof dlq replay FILE PLAN`: send a dead-letter file's records again through the client the
// plan configures, to the real upstream (or `planproof serve`), keeping each one's idempotency key.
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/logging.hpp"
#include "core/units.hpp"
#include "plan/loader.hpp"
#include "scenario/event_log.hpp"
#include "scenario/replay.hpp"

namespace planproof::cli {
namespace {

struct replay_args {
  std::string file;
  std::string plan;
  std::string upstream;
  std::string upstream_ca;
  bool insecure = false;
  bool restart = false;
  std::string out;
  std::string phase;
  std::string rate;
  std::string log;
  std::vector<std::string> sets;
  std::vector<std::string> limits;  // --limit NAME=VALUE
};

// FILE with `.replay.jsonl` in place of `.jsonl` (or after the whole name).
std::filesystem::path default_out(const std::filesystem::path& file) {
  auto out = file;
  if (out.extension() == ".jsonl") out.replace_extension();
  out += ".replay.jsonl";
  return out;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec)) return true;
  return std::filesystem::weakly_canonical(a, ec) == std::filesystem::weakly_canonical(b, ec);
}

std::string count(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

int execute(const replay_args& args) {
  core::setup_logging(core::verbosity::normal);
  const auto load = load_options_from(args.sets, args.limits);
  if (!load) return exit_usage;
  std::optional<double> rate;
  if (!args.rate.empty()) {
    rate = core::parse_rate(args.rate);
    if (!rate) {
      if (const auto n = core::parse_number(args.rate); n && *n > 0) rate = *n;
    }
    if (!rate) {
      std::cerr << "--rate: error: '" << args.rate << "' is not " << core::rate_syntax << " (or a number per second)\n";
      return exit_usage;
    }
  }
  const std::filesystem::path file = args.file;
  const std::filesystem::path out = args.out.empty() ? default_out(file) : std::filesystem::path(args.out);
  if (same_file(file, out)) {
    std::cerr << "--dead-letter: error: " << out.string() << " is FILE itself; replay never rewrites FILE in place\n";
    return exit_usage;
  }

  plan::integration_plan plan;
  try {
    plan = plan::load_file(args.plan, *load);
  } catch (const core::diagnostic_error& e) {
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
    return exit_usage;
  }

  const auto letters = client::read_dead_letters(file);
  if (letters.error) {
    std::cerr << "planproof dlq replay: cannot read " << file.string() << ": " << letters.error.message() << '\n';
    return exit_usage;
  }
  const auto selection = scenario::select_replay(plan, letters);
  if (!selection.errors.empty()) {
    for (const auto& e : selection.errors) std::cerr << file.string() << ": " << e << '\n';
    std::cerr << "planproof dlq replay: " << count(selection.errors.size(), "record does", "records do")
              << " not match " << args.plan << "; nothing was replayed\n";
    return exit_usage;
  }

  std::unique_ptr<scenario::event_log> log;
  scenario::replay_options options;
  if (!args.phase.empty()) options.phase = args.phase;
  options.upstream = args.upstream;
  options.upstream_ca = args.upstream_ca;
  options.insecure = args.insecure;
  if (args.insecure) {
    std::cerr << "planproof dlq replay: warning: --insecure: the upstream's certificate is NOT checked; anyone on "
                 "the path can read and change the replayed requests and their credentials\n";
  }
  options.out = out;
  options.progress = out.string() + ".progress";
  options.restart = args.restart;
  options.rate = rate;
  options.context = {{"replay_of", file.string()}};
  if (!open_decision_log(args.log, log)) return exit_usage;
  options.log = log.get();
  options.limits = load->limits;

  scenario::replay_result result;
  if (!selection.items.empty()) result = scenario::replay(plan, selection.items, options);
  if (log) log->close();
  switch (result.status) {
    case scenario::replay_status::done:
      break;
    case scenario::replay_status::usage_error:
      std::cerr << "planproof dlq replay: " << result.error << "; nothing was replayed\n";
      return exit_usage;
    case scenario::replay_status::unreachable:
      std::cerr << "planproof dlq replay: " << result.error << "; nothing was replayed, " << file.string()
                << " is unchanged\n";
      return exit_harness_error;
    case scenario::replay_status::harness_error:
      std::cerr << "planproof dlq replay: " << result.error << "; nothing was replayed\n";
      return exit_harness_error;
  }

  std::cout << "planproof dlq replay " << file.string() << " (" << count(selection.items.size(), "record", "records")
            << ")" << (result.upstream_url.empty() ? "" : " to " + result.upstream_url) << '\n';
  for (const auto& s : selection.skipped) std::cout << "  skipped line " << s.line << ": " << s.why << '\n';
  for (const auto& o : selection.other_records) {
    std::cout << "  left line " << o.line << " alone: a " << o.why
              << " record (records a mapping rejected from a response that succeeded), not a request to send again\n";
  }
  if (selection.skipped_count > selection.skipped.size()) {
    std::cout << "  skipped " << selection.skipped_count - selection.skipped.size() << " more damaged lines\n";
  }
  if (result.resumed > 0) {
    std::cout << "  resumed: " << count(result.resumed, "record", "records")
              << " an earlier replay of this file started and did not finish are not sent again ("
              << options.progress.string() << "; --restart sends every record again)\n";
  }
  if (!result.in_doubt.empty()) {
    std::cout << "  in doubt: line";
    if (result.in_doubt.size() > 1) std::cout << 's';
    for (std::size_t i = 0; i < result.in_doubt.size() && i < 20; ++i) std::cout << (i == 0 ? " " : ", ") << result.in_doubt[i];
    if (result.in_doubt.size() > 20) std::cout << " and " << result.in_doubt.size() - 20 << " more";
    std::cout << ": that replay sent them, or was about to, and never saw an answer; they were not sent again\n";
  }
  std::cout << "replayed " << result.replayed << ": " << result.succeeded << " succeeded, " << result.dead_lettered
            << " dead-lettered again, " << count(selection.skipped_count, "damaged line", "damaged lines")
            << " skipped";
  if (result.failed > 0) {
    std::cout << ", " << result.failed << " failed (a mark of the replay's progress or the new dead letter could not be written)";
  }
  std::cout << '\n';
  if (result.dead_lettered > 0) {
    std::cout << count(result.dead_lettered, "dead letter", "dead letters") << " appended to " << out.string() << '\n';
  }
  std::cout << std::flush;
  if (!std::cout || result.failed > 0) return exit_harness_error;
  return result.dead_lettered > 0 ? exit_broken : exit_held;
}

}  // namespace

command add_dlq_command(CLI::App& app) {
  auto args = std::make_shared<replay_args>();
  auto* dlq = app.add_subcommand("dlq", "Work with dead-letter files (the JSON lines `run` and your integration write)");
  dlq->require_subcommand(1);
  auto* cmd = dlq->add_subcommand(
      "replay",
      "Send every record of a dead-letter FILE again through the client PLAN configures (its retry settings\n"
      "and auth, secrets from the environment as run resolves them, an mtls plan's own client certificate\n"
      "in the handshake), each with the X-Request-Id and idempotency key it was first sent with, so an\n"
      "upstream that already applied one does not apply it twice. Records that fail again are appended to\n"
      "another file; FILE is never changed. Damaged lines (a record torn by a crash) are skipped and listed.\n"
      "Exit 0 all succeeded, 1 some dead-lettered again, 2 usage, plan or FILE errors (nothing sent),\n"
      "3 the upstream cannot be reached (nothing sent) or the new dead letters cannot be written.");
  cmd->add_option("FILE", args->file, "The dead-letter file (JSON lines)")->required();
  cmd->add_option("PLAN", args->plan, "The plan the records came from (YAML or JSON)")->required();
  cmd->add_option("--upstream", args->upstream,
                  "Send to http(s)://HOST[:PORT][/PREFIX] (the prefix goes before each record's path);\n"
                  "default: the plan's integration.base_url")
      ->type_name("URL");
  cmd->add_option("--upstream-ca", args->upstream_ca,
                  "PEM file of the CAs an https upstream's certificate must chain to (default: the plan's\n"
                  "mtls ca when it has one, else the system store)")
      ->type_name("FILE");
  cmd->add_flag("--insecure", args->insecure,
                "Do not check the https upstream's certificate (a warning says so): only for a server known to\n"
                "be misconfigured");
  cmd->add_option("--dead-letter", args->out,
                  "Append the records that fail again to OUT; default: FILE with .replay.jsonl for .jsonl.\n"
                  "OUT.progress marks each record as it is sent and ends, so a replay cut short and started\n"
                  "again sends no record twice; it is removed once every record has ended")
      ->type_name("OUT");
  cmd->add_flag("--restart", args->restart,
                "Drop the marks of an earlier replay that did not finish (OUT.progress) and send every record");
  cmd->add_option("--phase", args->phase, "Use this phase's retry settings");
  cmd->add_option("--rate", args->rate, "Send at most R requests per second (20/s, 600/m or 20); default: the\n"
                                        "plan's traffic rate, with at most its concurrency in flight")
      ->type_name("R");
  cmd->add_option("--log", args->log, "Write every client decision to FILE as JSON lines, as run --log does");
  repeatable(cmd->add_option("--set", args->sets, "Override a plan value before replaying, as with run (repeatable)"));
  add_limit_option(cmd, args->limits);
  return {cmd, [args] { return execute(*args); }};
}

}  // namespace planproof::cli
