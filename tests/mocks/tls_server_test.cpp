// The mock server over HTTPS and mTLS, against a real TLS client on loopback: requests answered
// over TLS with the usual faults and keep-alive, each handshake fault failing the client's
// handshake the way it says, failed handshakes recorded, and tls selectors counting connections.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <gtest/gtest.h>

#include "https_client.hpp"
#include "mocks/proxy.hpp"
#include "mocks/tls.hpp"
#include "server_fixture.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof::mocks {
namespace {

using namespace testing;
using namespace std::chrono_literals;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;

// The PKI tools/gen-certs made for this ctest run (the tls_pki fixture), or one made now when the
// binary is run by hand.
class test_pki {
 public:
  test_pki() {
    if (const char* dir = std::getenv("PLANPROOF_TEST_PKI"); dir != nullptr && *dir != '\0') {
      layout_ = pki_layout{fs::path(dir)};
      made_.exit_code = fs::exists(layout_.ca()) ? 0 : 1;
      made_.output = "PLANPROOF_TEST_PKI=" + std::string(dir) + " holds no ca.pem";
    } else {
      layout_ = pki_layout{dir_.path()};
      made_ = test::run_shell(test::source_dir() + "/tools/gen-certs '" + dir_.path().string() + "'");
    }
  }
  const test::process_result& made() const { return made_; }
  const pki_layout& layout() const { return layout_; }

 private:
  test::temp_dir dir_;
  test::process_result made_;
  pki_layout layout_;
};

const test_pki& pki() {
  static const test_pki p;
  return p;
}

// Server options for HTTPS, every handshake fault's context loaded.
server_options https_options(bool mtls) {
  server_options o;
  o.tls = std::make_shared<server_tls_contexts>();
  const auto error = o.tls->load(pki().layout(), mtls);
  EXPECT_EQ(error, "");
  return o;
}

plan::fault tls_fault_of(plan::handshake_fault kind) {
  plan::fault f;
  f.kind = "tls";
  f.tls = kind;
  return f;
}

ssl::context client_context(bool with_certificate) {
  auto r = make_client_context(client_config_for(pki().layout(), "localhost", with_certificate));
  if (!r) {
    ADD_FAILURE() << r.error;
    return ssl::context(ssl::context::tls);
  }
  return std::move(*r.context);
}

// One connection to the mock on 127.0.0.1:port with `requests` keep-alive GETs.
https_result https_get(unsigned short port, bool with_certificate, int requests = 1,
                       std::string target = "/v1/items") {
  auto ctx = client_context(with_certificate);
  return https_call(port, ctx, requests, std::move(target));
}

class tls_server : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pki().made().exit_code, 0) << pki().made().output; }
};

TEST_F(tls_server, https_request_is_answered_and_the_connection_kept) {
  running_server s({.options = https_options(false)});
  const auto r = https_get(s.port(), false, 2);
  EXPECT_FALSE(r.error) << r.description;
  EXPECT_FALSE(r.certificate_requested);
  ASSERT_EQ(r.statuses, (std::vector<int>{200, 200}));
  EXPECT_EQ(r.bodies[1], items_body);
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome, fate::answered);
  EXPECT_EQ(records[1].target, "/v1/items");
}

TEST_F(tls_server, a_client_speaking_plain_http_fails_the_handshake_and_is_recorded) {
  running_server s({.options = https_options(false)});
  test_client plain(s.port());
  const auto r = plain.get("/v1/items");
  EXPECT_TRUE(r.ec) << "an HTTPS server must not answer plain HTTP";
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::tls_failed);
  EXPECT_EQ(records[0].status, 0);
  EXPECT_EQ(records[0].fault, "");
  EXPECT_NE(records[0].tls_error, "");
  EXPECT_EQ(s.srv().metrics().by_fate.at("tls_failed"), 1u);
}

TEST_F(tls_server, a_silent_client_is_dropped_at_the_handshake_deadline) {
  auto options = https_options(false);
  options.handshake_timeout = 200ms;
  running_server s({.options = std::move(options)});
  test_client silent(s.port());
  ASSERT_FALSE(silent.connect_error());
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::tls_failed);
  EXPECT_EQ(records[0].tls_error, "handshake timed out");
  EXPECT_TRUE(s.srv().wait_for_open_connections_at_most(0, 10s));
}

TEST_F(tls_server, mtls_refuses_a_client_without_a_certificate_and_records_it) {
  running_server s({.options = https_options(true)});
  const auto refused = https_get(s.port(), false);
  EXPECT_TRUE(refused.certificate_requested);
  EXPECT_EQ(refused.failure, tls_failure::certificate_required) << refused.description;
  EXPECT_TRUE(refused.statuses.empty());
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::tls_failed);
  EXPECT_NE(records[0].tls_error.find("peer did not return a certificate"), std::string::npos) << records[0].tls_error;

  // The control: the same server answers a client that presents its certificate.
  const auto accepted = https_get(s.port(), true);
  EXPECT_FALSE(accepted.error) << accepted.description;
  EXPECT_EQ(accepted.statuses, std::vector<int>{200});
}

struct handshake_case {
  plan::handshake_fault fault;
  bool mtls;
  tls_failure client_sees;
};

class tls_server_fault : public tls_server, public ::testing::WithParamInterface<handshake_case> {};

TEST_P(tls_server_fault, fails_the_client_handshake_and_is_recorded) {
  const auto c = GetParam();
  running_server s({.faults = {tls_fault_of(c.fault)}, .options = https_options(c.mtls)});
  const auto r = https_get(s.port(), c.mtls);
  EXPECT_EQ(r.failure, c.client_sees) << r.description;
  EXPECT_TRUE(r.statuses.empty());
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::tls_failed);
  EXPECT_EQ(records[0].fault, "tls");
  EXPECT_EQ(records[0].status, 0);
  EXPECT_EQ(records[0].method, "");
  EXPECT_NE(records[0].tls_error, "");
  EXPECT_EQ(s.srv().faults().at(0).injected, 1u);
  EXPECT_EQ(s.srv().metrics().by_fault.at("tls"), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    each_fault, tls_server_fault,
    ::testing::Values(handshake_case{plan::handshake_fault::expired_certificate, false, tls_failure::certificate_expired},
           handshake_case{plan::handshake_fault::wrong_host_certificate, false, tls_failure::name_mismatch},
           handshake_case{plan::handshake_fault::untrusted_certificate, false, tls_failure::unknown_ca},
           handshake_case{plan::handshake_fault::reject_client_certificate, true, tls_failure::unknown_ca}),
    [](const auto& info) { return std::string(plan::to_string(info.param.fault)); });

TEST_F(tls_server, no_client_certificate_required_is_seen_by_the_client_only) {
  running_server s({.faults = {tls_fault_of(plan::handshake_fault::no_client_certificate_required)},
                    .options = https_options(true)});
  const auto r = https_get(s.port(), true);
  EXPECT_FALSE(r.error) << r.description;
  EXPECT_FALSE(r.certificate_requested) << "the fault is that nobody asks for the client certificate";
  EXPECT_EQ(r.statuses, std::vector<int>{200});
  EXPECT_EQ(s.srv().faults().at(0).injected, 1u);
  EXPECT_EQ(s.srv().metrics().by_fault.at("tls"), 1u);
  // Without the fault the same server asks.
  s.srv().set_fault_enabled(0, false);
  const auto control = https_get(s.port(), true);
  EXPECT_TRUE(control.certificate_requested);
  EXPECT_EQ(control.statuses, std::vector<int>{200});
}

TEST_F(tls_server, selectors_count_connections_not_requests) {
  auto first = tls_fault_of(plan::handshake_fault::expired_certificate);
  first.first = 1;
  running_server s({.faults = {first}, .options = https_options(false)});
  const auto failed = https_get(s.port(), false);
  EXPECT_EQ(failed.failure, tls_failure::certificate_expired) << failed.description;
  const auto second = https_get(s.port(), false, 3);
  EXPECT_FALSE(second.error) << second.description;
  EXPECT_EQ(second.statuses, (std::vector<int>{200, 200, 200}));
  const auto third = https_get(s.port(), false);
  EXPECT_EQ(third.statuses, std::vector<int>{200});
  ASSERT_TRUE(s.srv().wait_for_requests(5, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].outcome, fate::tls_failed);
  for (std::size_t i = 1; i < records.size(); ++i) EXPECT_EQ(records[i].outcome, fate::answered) << i;
  EXPECT_EQ(s.srv().faults().at(0).injected, 1u);
}

TEST_F(tls_server, request_faults_work_over_tls) {
  auto status = status_fault(503);
  status.first = 1;
  status.endpoint = "items";
  plan::fault empty = kind_fault("empty_reply");
  empty.endpoint = "gone";
  auto routes = default_routes();
  routes.push_back({"gone", "GET", "/v1/gone", 200, "{}", "application/json", std::nullopt});
  running_server s({.routes = routes, .faults = {status, empty}, .options = https_options(false)});
  // The status fault answers over TLS, and the connection carries the next request.
  const auto answered = https_get(s.port(), false, 2);
  EXPECT_FALSE(answered.error) << answered.description;
  EXPECT_EQ(answered.statuses, (std::vector<int>{503, 200}));
  // An empty reply ends the TLS stream cleanly: close_notify, then FIN.
  const auto emptied = https_get(s.port(), false, 1, "/v1/gone");
  EXPECT_EQ(emptied.error, http::error::end_of_stream) << emptied.error.message();
  ASSERT_TRUE(s.srv().wait_for_requests(3, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].outcome, fate::fault_status);
  EXPECT_EQ(records[1].outcome, fate::answered);
  EXPECT_EQ(records[2].outcome, fate::emptied);
}

TEST_F(tls_server, a_reset_over_tls_is_a_reset) {
  running_server s({.faults = {kind_fault("reset")}, .options = https_options(false)});
  const auto r = https_get(s.port(), false);
  EXPECT_EQ(r.error, asio::error::connection_reset) << r.error.message();
  EXPECT_EQ(r.failure, tls_failure::connection_closed);
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  EXPECT_EQ(s.srv().records().at(0).outcome, fate::reset);
}

// Proxy mode to an https upstream: verified against the CA given, name included, and refused
// (a recorded 502) when the upstream's certificate does not chain to a trusted CA.
TEST_F(tls_server, proxy_mode_forwards_to_an_https_upstream_it_trusts) {
  running_server upstream({.options = https_options(false)});
  auto proxied = [&](std::string ca_file, std::string host) {
    upstream_options o;
    o.target = std::get<upstream_target>(parse_upstream_url("https://" + host + ":" + std::to_string(upstream.port())));
    o.ca_file = std::move(ca_file);
    setup s;
    s.options.upstream = std::get<std::shared_ptr<upstream_proxy>>(upstream_proxy::make(o));
    return s;
  };
  running_server trusting(proxied(pki().layout().ca(), "localhost"));
  test_client c(trusting.port());
  const auto r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), items_body);
  EXPECT_EQ(trusting.srv().records().at(0).outcome, fate::proxied);

  running_server distrusting(proxied(pki().layout().untrusted_ca(), "localhost"));
  test_client d(distrusting.port());
  const auto refused = d.get("/v1/items");
  EXPECT_EQ(refused.res.result_int(), 502);
  EXPECT_NE(refused.res.body().find("TLS handshake with https://localhost:"), std::string::npos) << refused.res.body();
  EXPECT_EQ(distrusting.srv().records().at(0).outcome, fate::upstream_failed);
  // The upstream records its side of the refused handshake on its own thread, maybe after the 502.
  EXPECT_TRUE(upstream.srv().wait_for_requests(2, 10s)) << "one answered, one handshake refused by the proxy";
  EXPECT_EQ(upstream.srv().records().size(), 2u);
}

// An mtls upstream (run --upstream with auth mtls): the proxy presents the client certificate it
// was given in its handshake, and without one the upstream refuses it.
TEST_F(tls_server, proxy_mode_presents_a_client_certificate_to_an_mtls_upstream) {
  running_server upstream({.options = https_options(true)});
  auto proxied = [&](bool with_certificate) {
    upstream_options o;
    o.target = std::get<upstream_target>(parse_upstream_url("https://localhost:" + std::to_string(upstream.port())));
    o.ca_file = pki().layout().ca();
    if (with_certificate) {
      o.tls.cert_file = pki().layout().client_cert();
      o.tls.key_file = pki().layout().client_key();
    }
    setup s;
    s.options.upstream = std::get<std::shared_ptr<upstream_proxy>>(upstream_proxy::make(o));
    return s;
  };
  running_server presenting(proxied(true));
  test_client c(presenting.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  running_server anonymous(proxied(false));
  test_client d(anonymous.port());
  EXPECT_EQ(d.get("/v1/items").res.result_int(), 502);
  EXPECT_EQ(anonymous.srv().records().at(0).outcome, fate::upstream_failed);
}

TEST_F(tls_server, tls_faults_do_nothing_on_a_plain_http_server) {
  running_server s({.faults = {tls_fault_of(plan::handshake_fault::expired_certificate)}});
  test_client c(s.port());
  const auto r = c.get("/v1/items");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(s.srv().records().at(0).fault, "");
  EXPECT_EQ(s.srv().faults().at(0).injected, 0u);
}

}  // namespace
}  // namespace planproof::mocks
