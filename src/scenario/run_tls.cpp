#include "scenario/run_tls.hpp"

#include <algorithm>
#include <system_error>

#include "core/diagnostic.hpp"

namespace planproof::scenario {

namespace {

[[noreturn]] void fail(std::string message) {
  throw core::diagnostic_error(core::diagnostic{{"--tls"}, core::severity::error, std::move(message)});
}

}  // namespace

run_tls load_run_tls(const plan::integration_plan& plan, const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    fail("'" + dir.string() + "' is not a directory (write one with tools/gen-certs " + dir.string() + ")");
  }
  run_tls tls;
  tls.pki = mocks::pki_layout{std::filesystem::absolute(dir, ec)};
  if (ec) tls.pki.dir = dir;
  tls.mtls = plan.auth.method == plan::auth_method::mtls;

  std::vector<mocks::tls_fault> faults;
  for (const auto& mode : plan.failure_modes) {
    for (const auto& f : mode.inject) {
      if (f.kind != "tls") continue;
      const auto kind = mocks::parse_tls_fault(plan::to_string(f.tls));
      if (kind && std::find(faults.begin(), faults.end(), *kind) == faults.end()) faults.push_back(*kind);
    }
  }
  tls.server = std::make_shared<mocks::server_tls_contexts>();
  if (auto error = tls.server->load(tls.pki, tls.mtls, faults); !error.empty()) fail(std::move(error));

  auto client = mocks::make_client_context(mocks::client_config_for(tls.pki, std::string(run_tls_host), tls.mtls));
  if (!client) fail("the client: " + client.error);
  tls.client = std::make_shared<boost::asio::ssl::context>(std::move(*client.context));
  return tls;
}

std::vector<std::string> needs_tls(const plan::integration_plan& plan, const plan::failure_mode& mode) {
  std::vector<std::string> out;
  if (plan.auth.method == plan::auth_method::mtls) out.emplace_back("auth method mtls");
  if (std::any_of(mode.inject.begin(), mode.inject.end(), [](const auto& f) { return f.kind == "tls"; })) {
    out.emplace_back("fault 'tls'");
  }
  return out;
}

}  // namespace planproof::scenario
