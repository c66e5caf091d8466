#include "cli/serve_webhooks.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <map>

#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>

#include "core/file_io.hpp"
#include "core/units.hpp"
#include "mocks/exposition.hpp"
#include "mocks/proxy.hpp"
#include "scenario/auth_material.hpp"

namespace planproof::cli {

namespace {

// Bounds on the load serve generates: every delivery loop ends.
constexpr std::uint64_t max_deliver_count = 1'000'000;
constexpr double max_deliver_rate = 10'000;

std::string count(std::uint64_t n, std::string_view what) {
  return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

std::string rate_text(double r) { return core::format_number(r) + "/s"; }

// One line about a webhook fault for people: what it does, where, how often.
std::string describe(const plan::fault& f) {
  std::string out = f.kind;
  if (!f.params.empty()) out += " " + boost::json::serialize(f.params);
  out += f.endpoint ? " on " + *f.endpoint : " on every inbound endpoint";
  if (f.probability < 1) out += ", " + core::format_number(f.probability * 100) + "% of events";
  if (f.first) out += ", first " + std::to_string(*f.first);
  if (f.every) out += ", one in every " + std::to_string(*f.every);
  if (f.after) out += ", after " + std::to_string(*f.after);
  return out;
}

}  // namespace

void add_deliver_options(CLI::App& cmd, deliver_args& args) {
  cmd.add_option("--deliver-to", args.to,
                 "Play the webhook provider: send signed deliveries of each inbound endpoint to URL + the\n"
                 "endpoint's path (http://HOST:PORT[/base]; HOST an IP address or localhost; a host that is not\n"
                 "loopback is another machine)");
  cmd.add_option("--deliver-rate", args.rate,
                 "Events per second of plan time for each inbound endpoint, as 20/s or a number (default: the\n"
                 "plan's traffic rate when the traffic targets that endpoint, else 1/s)");
  cmd.add_option("--deliver-count", args.count,
                 "Events per inbound endpoint, 1 to 1000000; bursts of the enabled failure modes add theirs")
      ->capture_default_str();
  cmd.add_option("--deliveries", args.file, "On shutdown, write every delivery attempt to FILE as JSON lines");
}

std::optional<deliver_options> parse_deliver_args(const deliver_args& args) {
  deliver_options o;
  auto fail = [](std::string_view option, const std::string& why) -> std::optional<deliver_options> {
    std::cerr << option << ": error: " << why << '\n';
    return std::nullopt;
  };
  {
    std::uint64_t n = 0;
    const auto& t = args.count;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || n == 0 || n > max_deliver_count) {
      return fail("--deliver-count", "'" + t + "' is not a number of events from 1 to " +
                                         std::to_string(max_deliver_count));
    }
    o.count = n;
  }
  if (!args.rate.empty()) {
    auto r = core::parse_rate(args.rate);
    if (!r) r = core::parse_number(args.rate);
    if (!r || !(*r > 0) || *r > max_deliver_rate) {
      return fail("--deliver-rate", "'" + args.rate + "' is not a rate above 0 and at most " +
                                        rate_text(max_deliver_rate) + " (" + std::string(core::rate_syntax) +
                                        ", or events per second)");
    }
    o.rate = *r;
  }
  if (!args.file.empty()) {
    const auto dir = std::filesystem::absolute(args.file).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return fail("--deliveries", "the directory " + dir.string() + " does not exist");
    }
    o.file = args.file;
  }
  if (args.to.empty()) {
    if (!args.rate.empty() || args.count != "100" || !args.file.empty()) {
      return fail("--deliver-rate/--deliver-count/--deliveries", "they apply to deliveries; add --deliver-to URL");
    }
    return o;
  }
  o.url = args.to;
  const std::string example = " (e.g. http://127.0.0.1:8080/hooks)";
  std::string_view url = args.to;
  if (url.starts_with("https://")) {
    return fail("--deliver-to", "'" + args.to + "': this version delivers over plain http:// only" + example);
  }
  if (!url.starts_with("http://")) return fail("--deliver-to", "'" + args.to + "' is not an http:// URL" + example);
  const auto path = url.substr(std::min(url.find('/', 7), url.size()));
  if (path.find_first_of("?# \t\r\n") != std::string_view::npos) {
    return fail("--deliver-to", "'" + args.to + "': the path takes no query, fragment or spaces" + example);
  }
  const auto parsed = mocks::parse_upstream_url(url);
  if (const auto* why = std::get_if<std::string>(&parsed)) {
    return fail("--deliver-to", "'" + args.to + "' " + *why + example);
  }
  const auto& target = std::get<mocks::upstream_target>(parsed);
  const std::string host = target.host == "localhost" ? "127.0.0.1" : target.host;
  boost::system::error_code bad;
  const auto address = boost::asio::ip::make_address(host, bad);
  if (bad) {
    return fail("--deliver-to", "'" + args.to +
                                    "' has no IP address to deliver to (an IPv4 or bracketed IPv6 address, or "
                                    "localhost; names are not resolved)" + example);
  }
  o.port = target.port;
  o.base_path = target.path_prefix;
  o.host = address.to_string();
  o.loopback = address.is_loopback();
  return o;
}

serve_webhooks make_serve_webhooks(boost::asio::any_io_executor ex, const core::plan_clock& clock,
                                   const plan::integration_plan& plan, const std::optional<deliver_options>& options,
                                   const std::set<std::string>& enabled_modes, std::uint64_t seed,
                                   std::size_t max_records) {
  serve_webhooks w;
  auto faults = mocks::webhook_faults_of(plan);
  for (const auto& f : faults) {
    if (std::find(w.webhook_modes.begin(), w.webhook_modes.end(), f.failure_mode) == w.webhook_modes.end()) {
      w.webhook_modes.push_back(f.failure_mode);
    }
  }
  std::vector<const plan::endpoint*> inbound;
  for (const auto& e : plan.endpoints) {
    if (e.direction == plan::endpoint_direction::inbound) inbound.push_back(&e);
  }
  if (inbound.empty()) {
    if (options && !options->host.empty()) {
      w.banner.push_back("  note: --deliver-to: the plan has no inbound endpoint, so nothing is delivered");
    }
    return w;
  }
  if (!options || options->host.empty()) {
    w.banner.push_back("  inbound endpoints (the provider calls your app; no deliveries without --deliver-to):");
    for (const auto* e : inbound) w.banner.push_back("    " + e->id + ": " + e->method + " " + e->path);
    w.banner.push_back(
        "    to send signed deliveries to your receiver: planproof serve PLAN --deliver-to http://127.0.0.1:PORT");
    return w;
  }

  // One secret per reference: two endpoints naming the same one get the same value.
  std::map<std::string, scenario::signing_secret> secrets;
  std::vector<mocks::inbound_stream> streams;
  std::vector<std::string> secret_lines;
  for (const auto* e : inbound) {
    mocks::inbound_stream s;
    s.endpoint = *e;
    s.count = options->count;
    s.rate = options->rate ? *options->rate
                           : plan.traffic.endpoint == e->id && plan.traffic.rate > 0 ? plan.traffic.rate : 1.0;
    if (e->signature) {
      const auto ref = e->signature->secret.str();
      auto it = secrets.find(ref);
      const bool first = it == secrets.end();
      if (first) it = secrets.emplace(ref, scenario::resolve_signing_secret(e->signature->secret)).first;
      s.secret = it->second.value;
      const std::string how = std::string(plan::to_string(e->signature->scheme)) + " in " + e->signature->header +
                              (e->signature->timestamp_header.empty() ? "" : " and " + e->signature->timestamp_header);
      if (!it->second.generated) {
        secret_lines.push_back("    " + e->id + ": signed " + how + " with the secret of " + ref);
      } else if (first) {
        // A throwaway generated for this process: the receiver has to verify with it, and it
        // opens nothing but this test, so it is shown once. A resolved secret never is.
        secret_lines.push_back("    " + e->id + ": signed " + how + " with the test secret " + it->second.value);
        secret_lines.push_back("      (" + it->second.unresolved +
                               "; a throwaway generated for this mock, which your receiver must verify with)");
      } else {
        secret_lines.push_back("    " + e->id + ": signed " + how + " with the test secret above (" + ref + ")");
      }
    } else {
      secret_lines.push_back("    " + e->id + ": unsigned (the plan declares no signature)");
    }
    streams.push_back(std::move(s));
  }

  mocks::webhook_deliveries_options o;
  o.host = options->host;
  o.port = options->port;
  o.base_path = options->base_path;
  o.seed = seed;
  o.max_records = max_records;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if (!enabled_modes.contains(faults[i].failure_mode)) o.disabled.push_back(i);
  }
  w.deliveries = std::make_unique<mocks::webhook_deliveries>(ex, clock, std::move(streams), faults, o);

  w.banner.push_back("  deliveries (the mock plays the webhook provider):");
  for (const auto& s : w.deliveries->streams()) {
    w.banner.push_back("    " + s.endpoint.id + ": " + count(s.count, "event") + " at " + rate_text(s.rate) + " to " +
                       s.endpoint.method + " " + w.deliveries->url_of(s));
  }
  const auto& r = o.retry;
  w.banner.push_back("    anything but 2xx is redelivered, " + std::to_string(r.max_attempts) +
                     " attempts in all, waiting " + core::format_duration(r.base) + " then x" +
                     core::format_number(r.multiplier) + "; GET /deliveries lists them");
  w.banner.push_back("  webhook signatures:");
  for (auto& line : secret_lines) w.banner.push_back(std::move(line));
  std::size_t enabled = 0;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if (!enabled_modes.contains(faults[i].failure_mode)) continue;
    if (enabled++ == 0) w.banner.push_back("  webhook faults enabled:");
    w.banner.push_back("    [" + std::to_string(i) + "] " + faults[i].failure_mode + ": " + describe(faults[i].fault));
  }
  for (const auto& note : w.deliveries->notes()) w.banner.push_back("  note: webhook fault not injected: " + note);
  return w;
}

void print_webhook_banner(std::ostream& out, const serve_webhooks& w, std::string_view admin_url) {
  for (const auto& line : w.banner) out << line << '\n';
  if (w.deliveries && !w.deliveries->faults().empty() &&
      std::none_of(w.banner.begin(), w.banner.end(), [](const auto& l) { return l == "  webhook faults enabled:"; })) {
    out << "  webhook faults enabled: none (curl -X POST " << admin_url << "/failure-modes/ID/enable)\n";
  }
}

bool finish_serve_webhooks(std::ostream& out, const serve_webhooks& w, const std::optional<deliver_options>& options) {
  if (!w.deliveries) return true;
  std::uint64_t events = 0, attempts = 0, delivered = 0, given_up = 0;
  for (const auto& t : w.deliveries->totals()) {
    events += t.counters.events;
    attempts += t.counters.attempts;
    delivered += t.counters.delivered;
    given_up += t.counters.given_up;
  }
  std::map<std::string, std::uint64_t> by_kind;
  std::uint64_t injected = 0;
  for (const auto& f : w.deliveries->faults()) {
    if (f.injected == 0) continue;
    by_kind[f.kind] += f.injected;
    injected += f.injected;
  }
  std::string kinds;
  for (const auto& [kind, n] : by_kind) kinds += (kinds.empty() ? " (" : ", ") + kind + ": " + std::to_string(n);
  if (!kinds.empty()) kinds += ")";
  out << "planproof serve: deliveries: " << count(events, "event") << ", " << count(attempts, "attempt") << " ("
      << delivered << " delivered, " << given_up << " given up), " << count(injected, "webhook fault")
      << " injected" << kinds << '\n';
  if (!options || options->file.empty()) return true;
  const auto records = w.deliveries->records();
  if (auto ec = core::write_file_atomically(options->file, mocks::deliveries_text(records), core::file_access::owner_only)) {
    std::cerr << "planproof serve: cannot write the deliveries to " << options->file << ": " << ec.message() << '\n';
    return false;
  }
  out << "planproof serve: " << count(records.size(), "delivery attempt") << " written to " << options->file << '\n';
  return true;
}

}  // namespace planproof::cli
