// HTTPS and mTLS for the mocks: the tools/gen-certs material, real handshakes over loopback for
// each handshake fault as both sides see it (with a control showing the fault is the only cause),
// context errors as messages, and the failure reasons.
#include "mocks/tls.hpp"

#include <sys/stat.h>

#include <chrono>
#include <exception>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof::mocks {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr auto operation_deadline = 2s;  // each accept, connect, handshake, read, write
constexpr std::string_view response_body = "hello over tls";

std::string gen_certs() { return test::source_dir() + "/tools/gen-certs"; }
std::string shell_quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// The PKI the real script made: once per ctest run (the tls_pki fixture names its folder in
// PLANPROOF_TEST_PKI), or once per process when the binary is run by hand.
class shared_pki {
 public:
  shared_pki() : layout_{dir_.path()} {
    if (const char* dir = std::getenv("PLANPROOF_TEST_PKI"); dir != nullptr && *dir != '\0') {
      layout_ = pki_layout{fs::path(dir)};
      generated_.exit_code = fs::exists(layout_.dir / "ca.pem") ? 0 : 1;
      generated_.output = "PLANPROOF_TEST_PKI=" + std::string(dir) + " holds no ca.pem";
    } else {
      generated_ = test::run_shell(gen_certs() + " " + shell_quoted(dir_.path()));
    }
  }
  const test::process_result& generated() const { return generated_; }
  const pki_layout& layout() const { return layout_; }

 private:
  test::temp_dir dir_;
  test::process_result generated_;
  pki_layout layout_;
};

const shared_pki& pki() {
  static const shared_pki p;
  return p;
}
const pki_layout& files() { return pki().layout(); }

class tls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(pki().generated().exit_code, 0) << pki().generated().output;
  }
};

// ---- A real exchange between an SSL server stream and an SSL client stream ------------------

struct side {
  bool finished = false;  // the coroutine reached its end (nothing hung)
  error_code handshake;   // the handshake's own result
  error_code first_error; // the first error of the whole exchange, if any
  tls_failure failure = tls_failure::none;  // first_error, classified with the connection's state
  std::string description;
  int version = 0;                     // negotiated protocol (SSL_version) once the handshake ran
  bool certificate_requested = false;  // client: the server asked for our certificate
  int status = 0;                      // client: HTTP status received
  std::string body;                    // client: response body
  std::string sni;                     // server: the name the client sent
  std::string peer_name;               // server: CN of the client certificate
  std::string target;                  // server: request target received
  bool closed_cleanly = false;         // close_notify sent and received
};

struct exchange_result {
  side server, client;
};

void record(side& s, const error_code& ec, const SSL* ssl) {
  if (s.first_error) return;
  s.first_error = ec;
  s.failure = classify_tls_error(ec, ssl);
  s.description = describe_tls_error(ec, ssl);
}

std::string common_name(X509* cert) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

asio::awaitable<void> serve(tcp::acceptor& acceptor, ssl::context& ctx, side& out) {
  asio::steady_timer accept_deadline(acceptor.get_executor(), operation_deadline);
  accept_deadline.async_wait([&acceptor](error_code ec) {
    if (!ec) acceptor.cancel();
  });
  auto [accept_ec, socket] = co_await acceptor.async_accept(use_tuple);
  accept_deadline.cancel();
  if (accept_ec) {
    out.first_error = accept_ec;
    out.finished = true;
    co_return;
  }
  tls_stream stream(beast::tcp_stream(std::move(socket)), ctx);
  SSL* ssl = stream.native_handle();
  stream.next_layer().expires_after(operation_deadline);
  auto [hs] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  out.handshake = hs;
  out.version = SSL_version(ssl);
  if (hs) {
    record(out, hs, ssl);
    out.finished = true;
    co_return;
  }
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) out.sni = name;
  if (X509* peer = SSL_get0_peer_certificate(ssl)) out.peer_name = common_name(peer);

  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  stream.next_layer().expires_after(operation_deadline);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple); ec) {
    record(out, ec, ssl);
    out.finished = true;
    co_return;
  }
  out.target = std::string(req.target());
  http::response<http::string_body> res(http::status::ok, 11);
  res.set(http::field::content_type, "text/plain");
  res.body() = std::string(response_body);
  res.prepare_payload();
  stream.next_layer().expires_after(operation_deadline);
  if (auto [ec, n] = co_await http::async_write(stream, res, use_tuple); ec) {
    record(out, ec, ssl);
    out.finished = true;
    co_return;
  }
  // The client ends with close_notify, which reads as the end of the stream; answer with ours.
  http::request<http::string_body> next;
  stream.next_layer().expires_after(operation_deadline);
  auto [end_ec, end_n] = co_await http::async_read(stream, buffer, next, use_tuple);
  if (end_ec == http::error::end_of_stream) {
    auto [shutdown_ec] = co_await stream.async_shutdown(use_tuple);
    out.closed_cleanly = !shutdown_ec;
  }
  out.finished = true;
}

asio::awaitable<void> call(unsigned short port, ssl::context& ctx, std::string host, side& out) {
  tls_stream stream(co_await asio::this_coro::executor, ctx);
  SSL* ssl = stream.native_handle();
  EXPECT_TRUE(set_server_name(ssl, host));
  stream.next_layer().expires_after(operation_deadline);
  const tcp::endpoint server(asio::ip::make_address_v4("127.0.0.1"), port);
  if (auto [ec] = co_await stream.next_layer().async_connect(server, use_tuple); ec) {
    out.first_error = ec;
    out.finished = true;
    co_return;
  }
  auto [hs] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  out.handshake = hs;
  out.version = SSL_version(ssl);
  out.certificate_requested = client_certificate_requested(ssl);
  if (hs) {
    record(out, hs, ssl);
    out.finished = true;
    co_return;
  }

  http::request<http::string_body> req(http::verb::get, "/v1/ping", 11);
  req.set(http::field::host, host);
  stream.next_layer().expires_after(operation_deadline);
  if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) {
    record(out, ec, ssl);
    out.finished = true;
    co_return;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  stream.next_layer().expires_after(operation_deadline);
  if (auto [ec, n] = co_await http::async_read(stream, buffer, res, use_tuple); ec) {
    record(out, ec, ssl);
    out.finished = true;
    co_return;
  }
  out.status = res.result_int();
  out.body = res.body();
  stream.next_layer().expires_after(operation_deadline);
  auto [shutdown_ec] = co_await stream.async_shutdown(use_tuple);
  out.closed_cleanly = !shutdown_ec;
  out.finished = true;
}

// One connection from a client stream to a server stream on 127.0.0.1:0, both on one io_context.
exchange_result exchange(ssl::context& server_ctx, ssl::context& client_ctx, std::string host = "localhost") {
  exchange_result r;
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint any_port(asio::ip::make_address_v4("127.0.0.1"), 0);
  error_code ec;
  acceptor.open(any_port.protocol(), ec);
  if (!ec) acceptor.bind(any_port, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ADD_FAILURE() << "listen: " << ec.message();
    return r;
  }
  const unsigned short port = acceptor.local_endpoint().port();
  auto report = [](std::exception_ptr e) {
    if (e) ADD_FAILURE() << "a coroutine threw";
  };
  asio::co_spawn(ioc, serve(acceptor, server_ctx, r.server), report);
  asio::co_spawn(ioc, call(port, client_ctx, std::move(host), r.client), report);
  // Every operation has its own deadline; this bound only keeps a broken test from hanging.
  ioc.run_for(10s);
  EXPECT_TRUE(r.server.finished) << "server side did not finish";
  EXPECT_TRUE(r.client.finished) << "client side did not finish";
  return r;
}

ssl::context must(tls_context_result r) {
  if (!r) {
    ADD_FAILURE() << "context: " << r.error;
    return ssl::context(ssl::context::tls);
  }
  return std::move(*r.context);
}

ssl::context server_context(tls_fault fault, bool mtls) {
  return must(make_server_context(server_config_for(fault, files(), mtls)));
}

ssl::context client_context(bool with_certificate, std::string host = "localhost") {
  return must(make_client_context(client_config_for(files(), std::move(host), with_certificate)));
}

ssl::context client_context(const client_tls_config& c) { return must(make_client_context(c)); }

void expect_exchange_ok(const exchange_result& r) {
  EXPECT_FALSE(r.client.first_error) << r.client.description;
  EXPECT_FALSE(r.server.first_error) << r.server.description;
  EXPECT_EQ(r.client.status, 200);
  EXPECT_EQ(r.client.body, response_body);
  EXPECT_EQ(r.server.target, "/v1/ping");
}

// ---- Valid certificates -------------------------------------------------------------------

TEST_F(tls, valid_certificate_carries_an_http_exchange_and_closes_cleanly) {
  auto server = server_context(tls_fault::none, false);
  auto client = client_context(false);
  const auto r = exchange(server, client);
  expect_exchange_ok(r);
  EXPECT_EQ(r.client.version, TLS1_3_VERSION);
  EXPECT_EQ(r.server.sni, "localhost");
  EXPECT_FALSE(r.client.certificate_requested);
  EXPECT_TRUE(r.client.closed_cleanly);
  EXPECT_TRUE(r.server.closed_cleanly);
}

TEST_F(tls, ip_literal_is_checked_against_the_ip_san_and_sent_without_sni) {
  auto server = server_context(tls_fault::none, false);
  auto client = client_context(false, "127.0.0.1");
  const auto r = exchange(server, client, "127.0.0.1");
  expect_exchange_ok(r);
  EXPECT_EQ(r.server.sni, "");
}

TEST_F(tls, tls_1_2_is_accepted) {
  auto server = server_context(tls_fault::none, false);
  auto config = client_config_for(files(), "localhost", false);
  config.max_version = tls_version::tls1_2;
  auto client = client_context(config);
  const auto r = exchange(server, client);
  expect_exchange_ok(r);
  EXPECT_EQ(r.client.version, TLS1_2_VERSION);
}

// ---- Server certificate faults ------------------------------------------------------------

TEST_F(tls, expired_certificate_is_rejected_as_expired) {
  auto server = server_context(tls_fault::expired_certificate, false);
  auto client = client_context(false);
  const auto r = exchange(server, client);
  EXPECT_TRUE(r.client.handshake);
  EXPECT_EQ(r.client.failure, tls_failure::certificate_expired) << r.client.description;
  EXPECT_EQ(to_string(r.client.failure), "certificate expired");
  EXPECT_NE(r.client.description.find("certificate has expired"), std::string::npos) << r.client.description;
  EXPECT_EQ(r.server.failure, tls_failure::certificate_expired) << r.server.description;  // the client's alert
  EXPECT_EQ(r.client.status, 0);
}

TEST_F(tls, expired_certificate_passes_only_when_verification_is_off) {
  auto server = server_context(tls_fault::expired_certificate, false);
  auto config = client_config_for(files(), "localhost", false);
  config.verify_peer = false;
  auto client = client_context(config);
  expect_exchange_ok(exchange(server, client));
}

TEST_F(tls, wrong_host_certificate_is_a_name_mismatch) {
  auto server = server_context(tls_fault::wrong_host_certificate, false);
  auto client = client_context(false);
  const auto r = exchange(server, client);
  EXPECT_TRUE(r.client.handshake);
  EXPECT_EQ(r.client.failure, tls_failure::name_mismatch) << r.client.description;
  EXPECT_EQ(to_string(r.client.failure), "certificate name mismatch");
  EXPECT_TRUE(r.server.handshake);
}

TEST_F(tls, wrong_host_certificate_is_fine_for_the_host_it_names) {
  auto server = server_context(tls_fault::wrong_host_certificate, false);
  auto client = client_context(false, "wrong.example");
  const auto r = exchange(server, client, "wrong.example");
  expect_exchange_ok(r);
  EXPECT_EQ(r.server.sni, "wrong.example");
}

TEST_F(tls, wrong_ip_is_a_name_mismatch) {
  auto server = server_context(tls_fault::none, false);
  auto client = client_context(false, "127.0.0.2");  // the certificate names 127.0.0.1 and ::1
  const auto r = exchange(server, client, "127.0.0.2");
  EXPECT_EQ(r.client.failure, tls_failure::name_mismatch) << r.client.description;
}

TEST_F(tls, untrusted_certificate_is_an_unknown_ca) {
  auto server = server_context(tls_fault::untrusted_certificate, false);
  auto client = client_context(false);
  const auto r = exchange(server, client);
  EXPECT_TRUE(r.client.handshake);
  EXPECT_EQ(r.client.failure, tls_failure::unknown_ca) << r.client.description;
  EXPECT_EQ(to_string(r.client.failure), "unknown CA");
  EXPECT_EQ(r.server.failure, tls_failure::unknown_ca) << r.server.description;  // the client's alert
}

TEST_F(tls, untrusted_certificate_passes_for_a_client_that_trusts_its_ca) {
  auto server = server_context(tls_fault::untrusted_certificate, false);
  auto config = client_config_for(files(), "localhost", false);
  config.ca_file = files().untrusted_ca();
  auto client = client_context(config);
  expect_exchange_ok(exchange(server, client));
}

// ---- mTLS ---------------------------------------------------------------------------------

TEST_F(tls, mtls_client_with_its_certificate_gets_through) {
  auto server = server_context(tls_fault::none, true);
  auto client = client_context(true);
  const auto r = exchange(server, client);
  expect_exchange_ok(r);
  EXPECT_TRUE(r.client.certificate_requested);
  EXPECT_EQ(r.server.peer_name, "planproof-client");
}

// A plan may keep its client certificate and key in environment variables: the same handshake
// from PEM text as from the files.
TEST_F(tls, mtls_client_from_pem_text_gets_through) {
  auto server = server_context(tls_fault::none, true);
  auto config = client_config_for(files(), "localhost", false);
  config.ca_file.clear();
  config.ca_pem = test::read_file(files().ca());
  config.cert_pem = test::read_file(files().client_cert());
  config.key_pem = test::read_file(files().client_key());
  auto client = client_context(config);
  const auto r = exchange(server, client);
  expect_exchange_ok(r);
  EXPECT_TRUE(r.client.certificate_requested);
  EXPECT_EQ(r.server.peer_name, "planproof-client");
  // Only the text's CA is trusted: the untrusted server certificate is refused.
  auto untrusted = server_context(tls_fault::untrusted_certificate, false);
  EXPECT_EQ(exchange(untrusted, client).client.failure, tls_failure::unknown_ca);
}

TEST_F(tls, mtls_client_without_certificate_fails_on_both_sides_tls_1_3) {
  auto server = server_context(tls_fault::none, true);
  auto client = client_context(false);
  const auto r = exchange(server, client);
  EXPECT_TRUE(r.server.handshake);
  EXPECT_EQ(r.server.failure, tls_failure::no_peer_certificate) << r.server.description;
  EXPECT_EQ(to_string(r.server.failure), "peer did not return a certificate");
  // In TLS 1.3 the client finishes its handshake before the server has read its (empty)
  // certificate: the refusal arrives as an alert on the client's first read.
  EXPECT_FALSE(r.client.handshake) << r.client.handshake.message();
  EXPECT_TRUE(r.client.certificate_requested);
  EXPECT_EQ(r.client.failure, tls_failure::certificate_required) << r.client.description;
  EXPECT_EQ(r.client.status, 0);
}

TEST_F(tls, mtls_client_without_certificate_fails_on_both_sides_tls_1_2) {
  auto server = server_context(tls_fault::none, true);
  auto config = client_config_for(files(), "localhost", false);
  config.max_version = tls_version::tls1_2;
  auto client = client_context(config);
  const auto r = exchange(server, client);
  EXPECT_EQ(r.server.failure, tls_failure::no_peer_certificate) << r.server.description;
  EXPECT_TRUE(r.client.handshake);  // TLS 1.2: the handshake itself fails
  EXPECT_EQ(r.client.failure, tls_failure::certificate_required) << r.client.description;
}

TEST_F(tls, mtls_client_with_an_untrusted_certificate_is_rejected) {
  auto server = server_context(tls_fault::none, true);
  auto config = client_config_for(files(), "localhost", false);
  config.cert_file = files().untrusted_client_cert();
  config.key_file = files().untrusted_client_key();
  auto client = client_context(config);
  const auto r = exchange(server, client);
  EXPECT_TRUE(r.server.handshake);
  EXPECT_EQ(r.server.failure, tls_failure::unknown_ca) << r.server.description;
  EXPECT_EQ(r.client.failure, tls_failure::unknown_ca) << r.client.description;  // the server's alert
  EXPECT_EQ(r.client.status, 0);
}

TEST_F(tls, reject_client_certificate_fault_rejects_a_valid_client) {
  auto server = server_context(tls_fault::reject_client_certificate, true);
  auto client = client_context(true);
  const auto r = exchange(server, client);
  EXPECT_TRUE(r.client.certificate_requested);
  EXPECT_EQ(r.server.failure, tls_failure::unknown_ca) << r.server.description;
  EXPECT_EQ(r.client.failure, tls_failure::unknown_ca) << r.client.description;
  EXPECT_EQ(r.client.status, 0);
}

TEST_F(tls, no_client_certificate_required_fault_never_asks_for_one) {
  auto server = server_context(tls_fault::no_client_certificate_required, true);
  auto client = client_context(true);
  const auto r = exchange(server, client);
  expect_exchange_ok(r);  // the connection "works": only the missing request gives it away
  EXPECT_FALSE(r.client.certificate_requested);
  EXPECT_EQ(r.server.peer_name, "");
}

// ---- Protocol versions --------------------------------------------------------------------

// A client that speaks TLS 1.1 only. Security level 0 lets OpenSSL 3 build a TLS 1.1 hello at all
// (its SHA-1 signatures are below the default level), so what refuses it is the server.
ssl::context tls_1_1_only(ssl::context ctx) {
  SSL_CTX* raw = ctx.native_handle();
  SSL_CTX_set_security_level(raw, 0);
  EXPECT_EQ(SSL_CTX_set_cipher_list(raw, "DEFAULT:@SECLEVEL=0"), 1);
  EXPECT_EQ(SSL_CTX_set_min_proto_version(raw, TLS1_1_VERSION), 1);
  EXPECT_EQ(SSL_CTX_set_max_proto_version(raw, TLS1_1_VERSION), 1);
  return ctx;
}

TEST_F(tls, tls_1_1_client_is_refused_by_the_server) {
  auto server = server_context(tls_fault::none, false);
  auto client = tls_1_1_only(client_context(false));
  const auto r = exchange(server, client);
  EXPECT_EQ(r.server.failure, tls_failure::protocol_version) << r.server.description;
  EXPECT_EQ(r.client.failure, tls_failure::protocol_version) << r.client.description;
  EXPECT_EQ(r.client.status, 0);
}

TEST_F(tls, tls_1_1_client_gets_through_to_a_server_that_allows_it) {
  auto server = tls_1_1_only(server_context(tls_fault::none, false));
  auto client = tls_1_1_only(client_context(false));
  const auto r = exchange(server, client);
  expect_exchange_ok(r);
  EXPECT_EQ(r.client.version, TLS1_1_VERSION);
}

// ---- One context per fault ----------------------------------------------------------------

TEST_F(tls, server_contexts_hold_one_context_per_fault) {
  server_tls_contexts contexts;
  ASSERT_EQ(contexts.load(files(), true), "");
  for (const auto f : all_tls_faults) {
    ASSERT_NE(contexts.find(f), nullptr) << to_string(f);
    for (const auto g : all_tls_faults) {
      if (f != g) {
        EXPECT_NE(contexts.find(f), contexts.find(g));
      }
    }
  }
  auto client = client_context(true);
  EXPECT_EQ(exchange(*contexts.find(tls_fault::expired_certificate), client).client.failure,
            tls_failure::certificate_expired);
  expect_exchange_ok(exchange(*contexts.find(tls_fault::none), client));
}

TEST_F(tls, server_contexts_load_only_what_is_asked_and_name_the_failing_fault) {
  server_tls_contexts contexts;
  const std::array<tls_fault, 1> expired = {tls_fault::expired_certificate};
  ASSERT_EQ(contexts.load(files(), false, expired), "");
  EXPECT_NE(contexts.find(tls_fault::none), nullptr);
  EXPECT_NE(contexts.find(tls_fault::expired_certificate), nullptr);
  EXPECT_EQ(contexts.find(tls_fault::wrong_host_certificate), nullptr);

  test::temp_dir partial;
  fs::copy(files().dir, partial.path(), fs::copy_options::recursive);
  fs::remove(partial / "server-wrong-host.key");
  const std::string error = contexts.load(pki_layout{partial.path()}, false);
  EXPECT_NE(error.find("wrong_host_certificate"), std::string::npos) << error;
  EXPECT_NE(error.find("server-wrong-host.key"), std::string::npos) << error;
  EXPECT_EQ(contexts.find(tls_fault::wrong_host_certificate), nullptr);
}

TEST(tls_fault, names_round_trip_and_unknown_names_are_rejected) {
  for (const auto f : all_tls_faults) EXPECT_EQ(parse_tls_fault(to_string(f)), f);
  EXPECT_EQ(parse_tls_fault("expired"), std::nullopt);
  EXPECT_EQ(parse_tls_fault(""), std::nullopt);
}

TEST(tls_fault, each_fault_picks_its_certificate_or_verify_mode) {
  const pki_layout p{"/pki"};
  const auto normal = server_config_for(tls_fault::none, p, true);
  EXPECT_EQ(normal.cert_file, "/pki/server.pem");
  EXPECT_EQ(normal.key_file, "/pki/server.key");
  EXPECT_EQ(normal.client_ca_file, "/pki/ca.pem");
  EXPECT_EQ(server_config_for(tls_fault::none, p, false).client_ca_file, std::nullopt);
  EXPECT_EQ(server_config_for(tls_fault::expired_certificate, p, true).cert_file, "/pki/server-expired.pem");
  EXPECT_EQ(server_config_for(tls_fault::expired_certificate, p, true).key_file, "/pki/server-expired.key");
  EXPECT_EQ(server_config_for(tls_fault::wrong_host_certificate, p, false).cert_file, "/pki/server-wrong-host.pem");
  EXPECT_EQ(server_config_for(tls_fault::untrusted_certificate, p, false).cert_file, "/pki/server-untrusted.pem");
  EXPECT_EQ(server_config_for(tls_fault::no_client_certificate_required, p, true).client_ca_file, std::nullopt);
  EXPECT_EQ(server_config_for(tls_fault::no_client_certificate_required, p, true).cert_file, "/pki/server.pem");
  EXPECT_EQ(server_config_for(tls_fault::reject_client_certificate, p, true).client_ca_file, "/pki/untrusted-ca.pem");
  // Without mTLS in the plan, reject_client_certificate still asks, so the fault is never inert.
  EXPECT_EQ(server_config_for(tls_fault::reject_client_certificate, p, false).client_ca_file, "/pki/untrusted-ca.pem");
}

// ---- Context errors: messages, never exceptions or prompts --------------------------------

void write_file(const fs::path& p, std::string_view text) {
  std::ofstream(p, std::ios::binary) << text;
}

void expect_error(const tls_context_result& r, std::initializer_list<std::string_view> parts) {
  ASSERT_FALSE(r) << "a context was built";
  for (const auto part : parts) EXPECT_NE(r.error.find(part), std::string::npos) << r.error << "\nlacks: " << part;
}

TEST_F(tls, missing_files_are_named_with_the_reason) {
  auto config = server_config_for(tls_fault::none, files(), true);
  config.cert_file = (files().dir / "nope.pem").string();
  expect_error(make_server_context(config), {"nope.pem", "No such file or directory"});

  config = server_config_for(tls_fault::none, files(), true);
  config.key_file = (files().dir / "nope.key").string();
  expect_error(make_server_context(config), {"nope.key", "No such file or directory"});

  config = server_config_for(tls_fault::none, files(), true);
  config.client_ca_file = (files().dir / "nope-ca.pem").string();
  expect_error(make_server_context(config), {"nope-ca.pem", "No such file or directory"});

  config = server_config_for(tls_fault::none, files(), true);
  config.cert_file = files().dir.string();
  expect_error(make_server_context(config), {files().dir.string(), "not a regular file"});

  auto client = client_config_for(files(), "localhost", true);
  client.ca_file = (files().dir / "nope-ca.pem").string();
  expect_error(make_client_context(client), {"nope-ca.pem", "No such file or directory"});
  client = client_config_for(files(), "localhost", true);
  client.key_file = (files().dir / "nope.key").string();
  expect_error(make_client_context(client), {"nope.key", "No such file or directory"});
}

TEST_F(tls, garbage_pem_is_named_with_openssls_reason) {
  test::temp_dir dir;
  const auto garbage = (dir / "garbage.pem").string();
  write_file(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  const auto empty = (dir / "empty.pem").string();
  write_file(empty, "");
  const auto text = (dir / "text.pem").string();
  write_file(text, "just some text\n");

  for (const auto& bad : {garbage, empty, text}) {
    auto config = server_config_for(tls_fault::none, files(), true);
    config.cert_file = bad;
    expect_error(make_server_context(config), {bad, "cannot load the certificate"});
    config = server_config_for(tls_fault::none, files(), true);
    config.key_file = bad;
    expect_error(make_server_context(config), {bad, "cannot load the private key"});
    config = server_config_for(tls_fault::none, files(), true);
    config.client_ca_file = bad;
    expect_error(make_server_context(config), {bad});
    auto client = client_config_for(files(), "localhost", false);
    client.ca_file = bad;
    expect_error(make_client_context(client), {bad, "cannot load the CA certificates"});
  }
  // OpenSSL's own words come along: a reader can tell "not PEM" from "wrong key".
  auto config = server_config_for(tls_fault::none, files(), false);
  config.cert_file = text;
  expect_error(make_server_context(config), {"no start line"});
}

TEST_F(tls, bad_pem_text_is_named_by_what_it_is_for_and_never_quoted) {
  const std::string garbage = "-----BEGIN PRIVATE KEY-----\nsecret-looking garbage\n-----END PRIVATE KEY-----\n";
  auto config = client_config_for(files(), "localhost", false);
  config.cert_pem = test::read_file(files().client_cert());
  config.key_pem = garbage;
  auto r = make_client_context(config);
  expect_error(r, {"client key (PEM text)", "cannot load the private key"});
  EXPECT_EQ(r.error.find("garbage"), std::string::npos) << r.error;

  config.key_pem = test::read_file(files().server_key());
  expect_error(make_client_context(config),
               {"client key (PEM text)", "does not match the certificate in client certificate (PEM text)"});

  config.key_pem.clear();
  config.key_file = files().client_key();  // text and file mix: the certificate as text, the key as a file
  EXPECT_TRUE(make_client_context(config));
  config.cert_pem = garbage;
  expect_error(make_client_context(config), {"client certificate (PEM text)", "cannot load the certificate"});
  config.cert_pem = test::read_file(files().client_cert());
  config.key_file.clear();
  expect_error(make_client_context(config), {"cert_file and key_file go together", "client certificate (PEM text)"});

  config = client_config_for(files(), "localhost", false);
  for (const std::string& bad : {std::string("no certificate here\n"), std::string(), garbage}) {
    config.ca_pem = bad.empty() ? " " : bad;
    expect_error(make_client_context(config), {"CA certificates (PEM text)", "cannot load the CA certificates"});
  }
  // A good certificate followed by a broken one is refused, not read up to the broken block.
  config.ca_pem = test::read_file(files().ca()) + "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  expect_error(make_client_context(config), {"CA certificates (PEM text)"});
}

TEST_F(tls, key_that_does_not_match_the_certificate_is_named) {
  auto config = server_config_for(tls_fault::none, files(), false);
  config.key_file = files().client_key();
  expect_error(make_server_context(config), {"client.key", "does not match the certificate in", "server.pem",
                                             "key values mismatch"});

  auto client = client_config_for(files(), "localhost", true);
  client.key_file = files().server_key();
  expect_error(make_client_context(client), {"server.key", "client.pem"});
}

TEST_F(tls, passphrase_protected_key_is_refused_without_a_prompt) {
  test::temp_dir dir;
  const auto encrypted = dir / "encrypted.key";
  const auto made = test::run_shell("openssl pkey -in " + shell_quoted(files().server_key()) +
                                    " -aes256 -passout pass:secret -out " + shell_quoted(encrypted) + " </dev/null");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto config = server_config_for(tls_fault::none, files(), false);
  config.key_file = encrypted.string();
  expect_error(make_server_context(config), {"encrypted.key", "cannot load the private key"});
}

TEST_F(tls, client_settings_that_cannot_work_are_refused) {
  auto c = client_config_for(files(), "", false);
  expect_error(make_client_context(c), {"host"});
  c.verify_peer = false;  // nothing to check the name against, and nothing checked: allowed
  EXPECT_TRUE(make_client_context(c));

  c = client_config_for(files(), "localhost", true);
  c.key_file.clear();
  expect_error(make_client_context(c), {"cert_file and key_file", "client.pem"});

  c = client_config_for(files(), "localhost", false);
  c.min_version = tls_version::tls1_3;
  c.max_version = tls_version::tls1_2;
  expect_error(make_client_context(c), {"min_version"});
}

TEST_F(tls, empty_ca_file_means_the_system_store) {
  auto c = client_config_for(files(), "localhost", false);
  c.ca_file.clear();
  auto client = client_context(c);
  // Our test CA is not in the system store, so the server certificate is not trusted.
  auto server = server_context(tls_fault::none, false);
  EXPECT_EQ(exchange(server, client).client.failure, tls_failure::unknown_ca);
}

// ---- Classification without a socket ------------------------------------------------------

error_code openssl_error(int reason) {
  return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), asio::error::get_ssl_category()};
}

TEST(tls_failure, verify_results_say_why_verification_failed) {
  const auto verify_failed = openssl_error(SSL_R_CERTIFICATE_VERIFY_FAILED);
  EXPECT_EQ(classify_tls_error(verify_failed, X509_V_ERR_CERT_HAS_EXPIRED), tls_failure::certificate_expired);
  EXPECT_EQ(classify_tls_error(verify_failed, X509_V_ERR_CERT_NOT_YET_VALID), tls_failure::certificate_not_yet_valid);
  EXPECT_EQ(classify_tls_error(verify_failed, X509_V_ERR_HOSTNAME_MISMATCH), tls_failure::name_mismatch);
  EXPECT_EQ(classify_tls_error(verify_failed, X509_V_ERR_IP_ADDRESS_MISMATCH), tls_failure::name_mismatch);
  EXPECT_EQ(classify_tls_error(verify_failed, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY), tls_failure::unknown_ca);
  EXPECT_EQ(classify_tls_error(verify_failed, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT), tls_failure::unknown_ca);
  EXPECT_EQ(classify_tls_error(verify_failed, X509_V_ERR_CERT_REVOKED), tls_failure::certificate_rejected);
}

TEST(tls_failure, alerts_and_closes_have_their_reasons) {
  EXPECT_EQ(classify_tls_error({}), tls_failure::none);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)), tls_failure::no_peer_certificate);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)), tls_failure::certificate_required);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED)), tls_failure::certificate_expired);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_TLSV1_ALERT_UNKNOWN_CA)), tls_failure::unknown_ca);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_SSLV3_ALERT_BAD_CERTIFICATE)), tls_failure::certificate_rejected);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_UNSUPPORTED_PROTOCOL)), tls_failure::protocol_version);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)), tls_failure::protocol_version);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)), tls_failure::protocol_error);
  EXPECT_EQ(classify_tls_error(openssl_error(SSL_R_WRONG_VERSION_NUMBER)), tls_failure::protocol_error);
  EXPECT_EQ(classify_tls_error(ssl::error::stream_truncated), tls_failure::connection_closed);
  EXPECT_EQ(classify_tls_error(asio::error::eof), tls_failure::connection_closed);
  EXPECT_EQ(classify_tls_error(asio::error::connection_reset), tls_failure::connection_closed);
  EXPECT_EQ(classify_tls_error(asio::error::timed_out), tls_failure::protocol_error);
  // Another library's error in the SSL category is not mistaken for an SSL reason.
  const error_code pem{static_cast<int>(ERR_PACK(ERR_LIB_PEM, 0, SSL_R_TLSV1_ALERT_UNKNOWN_CA)),
                       asio::error::get_ssl_category()};
  EXPECT_EQ(classify_tls_error(pem), tls_failure::protocol_error);
  EXPECT_EQ(to_string(tls_failure::protocol_error), "protocol error");
}

// ---- tools/gen-certs ----------------------------------------------------------------------

TEST(gen_certs, bad_usage_exits_2_with_a_message) {
  for (const std::string args : {"", "--days", "/tmp/x --days 0", "/tmp/x --days ten", "/tmp/x --bogus", "/tmp/a /tmp/b"}) {
    const auto r = test::run_shell(gen_certs() + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("usage: tools/gen-certs DIR"), std::string::npos) << args << "\n" << r.output;
  }
}

TEST_F(tls, gen_certs_writes_private_keys_readable_by_the_owner_only) {
  for (const auto& entry : fs::directory_iterator(files().dir)) {
    const auto perms = entry.status().permissions() & fs::perms::all;
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".key") {
      EXPECT_EQ(perms, fs::perms::owner_read | fs::perms::owner_write) << name;
    } else {
      EXPECT_EQ(entry.path().extension(), ".pem") << name << " is neither a key nor a certificate";
    }
  }
  EXPECT_FALSE(fs::exists(files().dir / "untrusted-ca.key"));  // never kept
  EXPECT_EQ(std::distance(fs::directory_iterator(files().dir), fs::directory_iterator{}), 15);
}

TEST_F(tls, gen_certs_expired_certificate_lies_entirely_in_the_past) {
  const auto now = test::run_shell("openssl x509 -noout -checkend 0 -in " + shell_quoted(files().file("server-expired.pem")));
  EXPECT_EQ(now.exit_code, 1) << now.output;  // 1: expires within 0 seconds, i.e. already has
  const auto started = test::run_shell("openssl x509 -noout -startdate -enddate -in " +
                                       shell_quoted(files().file("server-expired.pem")));
  EXPECT_EQ(started.exit_code, 0) << started.output;
  const auto valid = test::run_shell("openssl x509 -noout -checkend 86400 -in " + shell_quoted(files().server_cert()));
  EXPECT_EQ(valid.exit_code, 0) << valid.output;
}

TEST_F(tls, gen_certs_rerun_on_a_complete_set_changes_nothing) {
  const auto before = test::read_file(files().ca());
  const auto r = test::run_shell(gen_certs() + " " + shell_quoted(files().dir));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing written"), std::string::npos) << r.output;
  EXPECT_EQ(test::read_file(files().ca()), before);
}

TEST_F(tls, gen_certs_refuses_to_complete_a_partial_set_without_force) {
  test::temp_dir dir;
  fs::copy(files().dir, dir.path(), fs::copy_options::recursive);
  fs::remove(dir / "client.key");
  const auto ca_before = test::read_file(dir / "ca.pem");
  const auto r = test::run_shell(gen_certs() + " " + shell_quoted(dir.path()));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
  EXPECT_EQ(test::read_file(dir / "ca.pem"), ca_before);
  EXPECT_FALSE(fs::exists(dir / "client.key"));
}

TEST_F(tls, gen_certs_force_replaces_the_whole_set) {
  test::temp_dir dir;
  fs::copy(files().dir, dir.path(), fs::copy_options::recursive);
  const auto ca_before = test::read_file(dir / "ca.pem");
  const auto r = test::run_shell(gen_certs() + " " + shell_quoted(dir.path()) + " --force --days 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote " + (dir / "server.pem").string()), std::string::npos) << r.output;
  EXPECT_NE(test::read_file(dir / "ca.pem"), ca_before);
  // The new set is consistent: the new server certificate chains to the new CA.
  const auto verify = test::run_shell("openssl verify -CAfile " + shell_quoted(dir / "ca.pem") + " " +
                                      shell_quoted(dir / "server.pem") + " " + shell_quoted(dir / "client.pem"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}), 15);  // no scratch left
}

}  // namespace
}  // namespace planproof::mocks
