// The provider half of `planproof serve`: `--deliver-to` and the options beside it, the webhook
// signing secrets, the banner and summary lines, and the deliveries file. serve_command.cpp calls
// these at a few points; everything about inbound webhooks stays here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/any_io_executor.hpp>

#include "core/clock.hpp"
#include "mocks/webhook_deliveries.hpp"
#include "plan/model.hpp"

namespace planproof::cli {

struct deliver_args {
  std::string to;      // --deliver-to URL; empty: no deliveries
  std::string rate;    // --deliver-rate; empty: per endpoint, the plan's traffic rate or 1/s
  std::string count = "100";  // --deliver-count, checked by parse_deliver_args
  std::string file;    // --deliveries FILE
};

void add_deliver_options(CLI::App& cmd, deliver_args& args);

struct deliver_options {
  std::string host;  // an IP address
  unsigned short port = 80;
  std::string base_path;  // "" or "/x", no trailing '/'
  bool loopback = true;
  std::optional<double> rate;
  std::uint64_t count = 100;
  std::string file;
  std::string url;  // as written
};

// Checks the options, which need no plan; nullopt after saying why on standard error.
std::optional<deliver_options> parse_deliver_args(const deliver_args& args);

// Secrets are resolved (or generated) here, before anything is printed. Null when the plan has no
// inbound endpoint or no --deliver-to was given.
struct serve_webhooks {
  std::unique_ptr<mocks::webhook_deliveries> deliveries;
  std::vector<std::string> banner;  // lines, printed by print_webhook_banner
  std::vector<std::string> webhook_modes;  // failure modes with at least one webhook fault
};

serve_webhooks make_serve_webhooks(boost::asio::any_io_executor ex, const core::plan_clock& clock,
                                   const plan::integration_plan& plan, const std::optional<deliver_options>& options,
                                   const std::set<std::string>& enabled_modes, std::uint64_t seed,
                                   std::size_t max_records);

void print_webhook_banner(std::ostream& out, const serve_webhooks& w, std::string_view admin_url);

// The summary line after shutdown and the --deliveries file; false when the file cannot be written
// (said on standard error).
bool finish_serve_webhooks(std::ostream& out, const serve_webhooks& w, const std::optional<deliver_options>& options);

}  // namespace planproof::cli
