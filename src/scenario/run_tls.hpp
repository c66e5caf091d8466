// `planproof run --tls DIR`: HTTPS mocks built from the certificates tools/gen-certs wrote into DIR,
// and a client under test that trusts DIR/ca.pem (and presents DIR/client.pem for auth: mtls).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "mocks/tls.hpp"
#include "plan/model.hpp"

namespace planproof::scenario {

// Loaded once per run and shared by every failure mode's mock and client.
struct run_tls {
  mocks::pki_layout pki;  // DIR, made absolute
  // The plan's auth is mtls: the mocks require a client certificate signed by DIR/ca.pem, and the
  // client presents DIR/client.pem in place of the plan's own certificate (that one is for the
  // real upstream).
  bool mtls = false;
  std::shared_ptr<mocks::server_tls_contexts> server;  // the normal context and one per tls fault of the plan
  std::shared_ptr<boost::asio::ssl::context> client;
};

// The address the client connects to, and so the name it checks the mock's certificate against
// (gen-certs writes server.pem for it).
inline constexpr std::string_view run_tls_host = "127.0.0.1";

// Both sides, from DIR: every tls fault kind any failure mode of the plan injects gets its context,
// so none silently does nothing. Throws core::diagnostic_error located at `--tls` when DIR is not
// a directory or a file cannot be loaded, naming the file and OpenSSL's reason.
run_tls load_run_tls(const plan::integration_plan& plan, const std::filesystem::path& dir);

// What running `mode` needs that only HTTPS mocks give: "auth method mtls", "fault 'tls'"; empty
// when plain HTTP will do.
std::vector<std::string> needs_tls(const plan::integration_plan& plan, const plan::failure_mode& mode);

}  // namespace planproof::scenario
