// HTTPS and mTLS for the mock upstream and the client under test: OpenSSL contexts built from PEM
// files (errors as messages), the handshake faults the mock injects, and short reasons for failures.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/types.h>

namespace planproof::mocks {

enum class tls_version : std::uint8_t { tls1_2, tls1_3 };

struct server_tls_config {
  std::string cert_file;  // PEM: the certificate, then any intermediates
  std::string key_file;   // PEM, unencrypted (a passphrase is refused, never prompted for)
  // Set = mTLS: every client must present a certificate chaining to a CA in this file, and the
  // certificate request names these CAs. Unset = no client certificate is asked for.
  std::optional<std::string> client_ca_file;
  tls_version min_version = tls_version::tls1_2;
  tls_version max_version = tls_version::tls1_3;
};

struct client_tls_config {
  std::string ca_file;    // CAs the server certificate must chain to; empty = the system store
  std::string cert_file;  // with key_file: the client certificate (mTLS); both empty = none
  std::string key_file;
  // Off only to look at a server that is known to be wrong; never for a real upstream.
  bool verify_peer = true;
  // The DNS name or IP literal the server certificate must carry (its SAN). Required when
  // verify_peer is on: a chain check without a name check accepts any certificate the CA signed.
  std::string host;
  tls_version min_version = tls_version::tls1_2;
  tls_version max_version = tls_version::tls1_3;
  // The same material as PEM text rather than files (a certificate or key a plan keeps in an
  // environment variable): each one set is used instead of its file. Errors name it by what it
  // is ("client key (PEM text)"), never quote it.
  std::string ca_pem;
  std::string cert_pem;  // the certificate, then any intermediates
  std::string key_pem;
};

// A built context, or why none could be built: "<file>: <what failed>: <OpenSSL's reason>".
struct tls_context_result {
  std::optional<boost::asio::ssl::context> context;
  std::string error;
  explicit operator bool() const noexcept { return context.has_value(); }
};

// Neither throws. Every handshake made from these contexts is a full one (no session resumption),
// so each connection shows the certificate its fault is about.
tls_context_result make_server_context(const server_tls_config& config);
// Host-name verification lives in the context (inherited by every connection made from it);
// SNI is per connection: call set_server_name before each client handshake.
tls_context_result make_client_context(const client_tls_config& config);

// Sets the SNI name of one client connection. An IP literal is not sent (SNI cannot carry one,
// RFC 6066) and counts as success. False when OpenSSL refuses the name.
bool set_server_name(SSL* ssl, std::string_view host) noexcept;

// Whether the server sent a certificate request on this client connection. Only known for
// connections from make_client_context contexts; read it once the handshake has run.
bool client_certificate_requested(const SSL* ssl) noexcept;

// ---- Handshake faults the mock injects -----------------------------------------------------

enum class tls_fault : std::uint8_t {
  none,
  expired_certificate,     // server presents a certificate whose validity ended yesterday
  wrong_host_certificate,  // server presents a certificate for wrong.example only
  untrusted_certificate,   // server presents a certificate from a CA the client does not trust
  // The plan expects mTLS, but the server does not ask for a client certificate: a client that
  // "works" here never proved it can authenticate.
  no_client_certificate_required,
  reject_client_certificate,  // server asks for a client certificate and rejects every one (unknown CA)
};
inline constexpr std::array<tls_fault, 6> all_tls_faults = {
    tls_fault::none,
    tls_fault::expired_certificate,
    tls_fault::wrong_host_certificate,
    tls_fault::untrusted_certificate,
    tls_fault::no_client_certificate_required,
    tls_fault::reject_client_certificate,
};
std::string_view to_string(tls_fault f) noexcept;
std::optional<tls_fault> parse_tls_fault(std::string_view name) noexcept;

// The files tools/gen-certs writes into one directory.
struct pki_layout {
  std::filesystem::path dir;

  std::string file(std::string_view name) const { return (dir / name).string(); }
  std::string ca() const { return file("ca.pem"); }
  std::string server_cert() const { return file("server.pem"); }
  std::string server_key() const { return file("server.key"); }
  std::string client_cert() const { return file("client.pem"); }
  std::string client_key() const { return file("client.key"); }
  std::string untrusted_ca() const { return file("untrusted-ca.pem"); }
  std::string untrusted_client_cert() const { return file("client-untrusted.pem"); }
  std::string untrusted_client_key() const { return file("client-untrusted.key"); }
};

// The server settings that carry out `fault`. `mtls`: the plan expects client certificates, so
// the server asks for one (signed by the gen-certs CA) unless the fault says otherwise.
server_tls_config server_config_for(tls_fault fault, const pki_layout& pki, bool mtls);
// A client that trusts the gen-certs CA, checks `host`, and with `mtls` presents client.pem.
client_tls_config client_config_for(const pki_layout& pki, std::string host, bool mtls);

// One server context per fault, built up front so that a connection only picks one.
class server_tls_contexts {
 public:
  // Builds a context for each of `faults` (tls_fault::none is always built). Empty when all were
  // built; otherwise what failed, naming the fault and the file. Replaces what was loaded before.
  std::string load(const pki_layout& pki, bool mtls, std::span<const tls_fault> faults = all_tls_faults);
  // nullptr when that fault's context was not loaded.
  boost::asio::ssl::context* find(tls_fault f) noexcept;

 private:
  std::array<std::optional<boost::asio::ssl::context>, all_tls_faults.size()> contexts_;
};

// ---- Why a handshake failed ----------------------------------------------------------------

enum class tls_failure : std::uint8_t {
  none,
  certificate_expired,        // ours to see (verification) or the peer's alert about ours
  certificate_not_yet_valid,
  name_mismatch,              // the certificate does not name the host we asked for
  unknown_ca,                 // does not chain to a trusted CA (ours to see, or the peer's alert)
  no_peer_certificate,        // server: the client sent no certificate although one is required
  certificate_required,       // client: the server required a certificate we did not send
  certificate_rejected,       // any other certificate problem, ours or the peer's alert
  protocol_version,           // no TLS version both sides accept
  connection_closed,          // the peer closed or reset the connection mid-handshake
  protocol_error,             // anything else TLS or the socket reported
};
// The short reason a report shows: "certificate expired", "certificate name mismatch",
// "unknown CA", "peer did not return a certificate", "protocol error"...
std::string_view to_string(tls_failure f) noexcept;

// For an error from a TLS handshake, read or write (timeouts are the caller's to tell apart first).
// `verify_result` is SSL_get_verify_result of the connection: it says why "certificate verify
// failed". The SSL* overload reads it, and also recognises a TLS 1.2 server that answered our
// missing client certificate with a bare handshake_failure alert.
tls_failure classify_tls_error(const boost::system::error_code& ec, long verify_result = 0) noexcept;
tls_failure classify_tls_error(const boost::system::error_code& ec, const SSL* ssl) noexcept;
// The reason and OpenSSL's own words, for evidence lines:
// "certificate expired (certificate verify failed: certificate has expired)".
std::string describe_tls_error(const boost::system::error_code& ec, const SSL* ssl);

}  // namespace planproof::mocks
