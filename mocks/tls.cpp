#include "mocks/tls.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace planproof::mocks {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using error_code = boost::system::error_code;

namespace {

int to_openssl(tls_version v) noexcept { return v == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION; }

// OpenSSL's error queue as one line, most specific reason first, then emptied so that the next
// call starts clean. Reasons only: "error:0480006C:PEM routines::" adds nothing for a reader.
std::string drain_openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    std::string text;
    if (reason != nullptr) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      text = buf;
    }
    if (out.find(text) != std::string::npos) continue;
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? std::string("unknown OpenSSL error") : out;
}

std::string failure(std::string_view file, std::string_view what) {
  std::string out(file);
  out.append(": ").append(what).append(": ").append(drain_openssl_errors());
  return out;
}

// OpenSSL's own message for a file it cannot open is "system lib"; say which file and why first.
std::string check_readable(const std::string& path) {
  if (path.empty()) return "empty file name";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path + ": cannot open: " + std::system_category().message(errno);
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular) return path + ": not a regular file";
  return {};
}

// Keys with a passphrase are refused: the default callback would prompt on the terminal and
// block a run (or a test) forever.
int refuse_passphrase(char*, int, int, void*) { return 0; }

// A PEM input: a file, or the text itself (a secret held in an environment variable). Errors
// name the file, or say what the text is for; the text itself is never quoted.
struct pem_input {
  std::string file;
  std::string text;
  std::string what;  // "client certificate"
  std::string name() const { return text.empty() ? file : what + " (PEM text)"; }
};

// A read-only memory BIO over `text`, freed with the object.
class text_bio {
 public:
  explicit text_bio(const std::string& text) : bio_(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))) {}
  ~text_bio() { BIO_free(bio_); }
  text_bio(const text_bio&) = delete;
  text_bio& operator=(const text_bio&) = delete;
  BIO* get() const noexcept { return bio_; }

 private:
  BIO* bio_;
};

// Reading PEM blocks one after the other ends with "no start line" at the end of the text; any
// other error means a block that did not parse. True (and the queue emptied) for the former.
bool reached_end_of_pem() {
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) != ERR_LIB_PEM || ERR_GET_REASON(last) != PEM_R_NO_START_LINE) return false;
  ERR_clear_error();
  return true;
}

// As SSL_CTX_use_certificate_chain_file does for a file: the first certificate is ours, the
// others its chain. False with OpenSSL's reason in its error queue.
bool use_certificate_chain_text(SSL_CTX* ctx, const std::string& text) {
  const text_bio in(text);
  if (in.get() == nullptr) return false;
  X509* leaf = PEM_read_bio_X509_AUX(in.get(), nullptr, refuse_passphrase, nullptr);
  if (leaf == nullptr) return false;
  const int used = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (used != 1 || SSL_CTX_clear_chain_certs(ctx) != 1) return false;
  while (X509* ca = PEM_read_bio_X509(in.get(), nullptr, refuse_passphrase, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {  // takes ownership only on success
      X509_free(ca);
      return false;
    }
  }
  return reached_end_of_pem();
}

bool use_private_key_text(SSL_CTX* ctx, const std::string& text) {
  const text_bio in(text);
  if (in.get() == nullptr) return false;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in.get(), nullptr, refuse_passphrase, nullptr);
  if (key == nullptr) return false;
  const int used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  return used == 1;
}

std::string load_certificate_and_key(SSL_CTX* ctx, const pem_input& cert, const pem_input& key) {
  if (cert.text.empty()) {
    if (auto e = check_readable(cert.file); !e.empty()) return e;
  }
  if (key.text.empty()) {
    if (auto e = check_readable(key.file); !e.empty()) return e;
  }
  const bool cert_loaded = cert.text.empty() ? SSL_CTX_use_certificate_chain_file(ctx, cert.file.c_str()) == 1
                                             : use_certificate_chain_text(ctx, cert.text);
  if (!cert_loaded) return failure(cert.name(), "cannot load the certificate");
  const bool key_loaded = key.text.empty() ? SSL_CTX_use_PrivateKey_file(ctx, key.file.c_str(), SSL_FILETYPE_PEM) == 1
                                           : use_private_key_text(ctx, key.text);
  if (!key_loaded) {
    // OpenSSL checks the key against the certificate while loading it; "key values mismatch"
    // alone would not say which certificate.
    const unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_X509 && ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH) {
      return failure(key.name(), "does not match the certificate in " + cert.name());
    }
    return failure(key.name(), "cannot load the private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return failure(key.name(), "does not match the certificate in " + cert.name());
  }
  return {};
}

std::string load_trusted_cas(SSL_CTX* ctx, const std::string& ca_file) {
  if (auto e = check_readable(ca_file); !e.empty()) return e;
  if (SSL_CTX_load_verify_file(ctx, ca_file.c_str()) != 1) return failure(ca_file, "cannot load the CA certificates");
  return {};
}

// Every certificate in `text` trusted; at least one, and nothing but certificates.
std::string load_trusted_cas_text(SSL_CTX* ctx, const std::string& text) {
  const std::string name = "CA certificates (PEM text)";
  const text_bio in(text);
  if (in.get() == nullptr) return failure(name, "cannot be read");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(in.get(), nullptr, refuse_passphrase, nullptr)) {
    const int ok = X509_STORE_add_cert(store, ca);
    X509_free(ca);
    if (ok != 1) return failure(name, "cannot load the CA certificates");
    ++added;
  }
  if (added == 0 || !reached_end_of_pem()) return failure(name, "cannot load the CA certificates");
  return {};
}

std::string set_versions(SSL_CTX* ctx, tls_version min, tls_version max) {
  if (min > max) return "min_version is above max_version";
  if (SSL_CTX_set_min_proto_version(ctx, to_openssl(min)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, to_openssl(max)) != 1) {
    return failure("TLS versions", "cannot be set");
  }
  return {};
}

// The SSL ex_data slot where the client remembers that the server asked for its certificate.
int certificate_request_index() noexcept {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Client side, OpenSSL calls the certificate callback only when a certificate request arrived.
int note_certificate_request(SSL* ssl, void*) {
  const int index = certificate_request_index();
  if (index >= 0) SSL_set_ex_data(ssl, index, reinterpret_cast<void*>(std::uintptr_t{1}));
  return 1;  // carry on with whatever certificate (or none) the context holds
}

// "[::1]" as written in a URL is the IP literal ::1.
std::string_view strip_brackets(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool is_ip_literal(std::string_view host) noexcept {
  error_code ec;
  (void)asio::ip::make_address(std::string(strip_brackets(host)), ec);
  return !ec;
}

// A fresh SSL_CTX owned by an asio context, with what both sides share. Never throws: the
// context is adopted from a handle rather than created by asio's throwing constructor.
std::optional<ssl::context> new_context(const SSL_METHOD* method, std::string& error) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(method);
  if (raw == nullptr) {
    error = failure("OpenSSL", "cannot create a TLS context");
    return std::nullopt;
  }
  std::optional<ssl::context> ctx;
  ctx.emplace(raw);
  SSL_CTX_set_default_passwd_cb(raw, refuse_passphrase);
  SSL_CTX_set_options(raw, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  return ctx;
}

tls_failure from_verify_result(long v) noexcept {
  switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED: return tls_failure::certificate_expired;
    case X509_V_ERR_CERT_NOT_YET_VALID: return tls_failure::certificate_not_yet_valid;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH: return tls_failure::name_mismatch;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED: return tls_failure::unknown_ca;
    default: return tls_failure::certificate_rejected;
  }
}

// The OpenSSL reason of an error from asio's SSL category; 0 for any other error.
int openssl_reason(const error_code& ec) noexcept {
  if (ec.category() != asio::error::get_ssl_category()) return 0;
  // asio stores ERR_get_error()'s packed value as an int: unpack it from the same bits.
  const auto packed = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
  if (ERR_SYSTEM_ERROR(packed) || ERR_GET_LIB(packed) != ERR_LIB_SSL) return 0;
  return ERR_GET_REASON(packed);
}

}  // namespace

tls_context_result make_server_context(const server_tls_config& config) {
  tls_context_result r;
  auto ctx = new_context(TLS_server_method(), r.error);
  if (!ctx) return r;
  SSL_CTX* raw = ctx->native_handle();
  if (r.error = set_versions(raw, config.min_version, config.max_version); !r.error.empty()) return r;
  if (r.error = load_certificate_and_key(raw, {.file = config.cert_file}, {.file = config.key_file}); !r.error.empty()) {
    return r;
  }
  if (config.client_ca_file) {
    const std::string& ca = *config.client_ca_file;
    if (r.error = load_trusted_cas(raw, ca); !r.error.empty()) return r;
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (names == nullptr) {
      r.error = failure(ca, "cannot read the CA names for the certificate request");
      return r;
    }
    SSL_CTX_set_client_CA_list(raw, names);  // takes ownership
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  }
  // TLS 1.3 servers send session tickets after the handshake unless told not to; nothing here
  // would use them (see new_context).
  SSL_CTX_set_num_tickets(raw, 0);
  r.context = std::move(ctx);
  return r;
}

tls_context_result make_client_context(const client_tls_config& config) {
  tls_context_result r;
  if (config.verify_peer && config.host.empty()) {
    r.error = "host: required when verify_peer is on (the certificate's name must be checked)";
    return r;
  }
  const pem_input cert{config.cert_file, config.cert_pem, "client certificate"};
  const pem_input key{config.key_file, config.key_pem, "client key"};
  const bool has_cert = !cert.file.empty() || !cert.text.empty();
  if (has_cert != (!key.file.empty() || !key.text.empty())) {
    r.error = "client certificate: cert_file and key_file go together (got only " +
              (has_cert ? cert.name() : key.name()) + ")";
    return r;
  }
  auto ctx = new_context(TLS_client_method(), r.error);
  if (!ctx) return r;
  SSL_CTX* raw = ctx->native_handle();
  if (r.error = set_versions(raw, config.min_version, config.max_version); !r.error.empty()) return r;
  if (!config.ca_pem.empty()) {
    if (r.error = load_trusted_cas_text(raw, config.ca_pem); !r.error.empty()) return r;
  } else if (config.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(raw) != 1) {
      r.error = failure("system CA store", "cannot be loaded");
      return r;
    }
  } else if (r.error = load_trusted_cas(raw, config.ca_file); !r.error.empty()) {
    return r;
  }
  if (has_cert) {
    if (r.error = load_certificate_and_key(raw, cert, key); !r.error.empty()) return r;
  }
  SSL_CTX_set_cert_cb(raw, note_certificate_request, nullptr);
  if (config.verify_peer) {
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(raw);
    const std::string host(strip_brackets(config.host));
    int ok = 0;
    if (is_ip_literal(host)) {
      ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      // "*.example.com" matches "api.example.com", never "api-v2*" style partial labels.
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = X509_VERIFY_PARAM_set1_host(param, host.data(), host.size());
    }
    if (ok != 1) {
      r.error = failure("host " + config.host, "cannot be used for certificate verification");
      return r;
    }
  } else {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  }
  r.context = std::move(ctx);
  return r;
}

bool set_server_name(SSL* ssl, std::string_view host) noexcept {
  if (ssl == nullptr) return false;
  if (host.empty() || is_ip_literal(host)) return true;
  const std::string name(host);
  return SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
}

bool client_certificate_requested(const SSL* ssl) noexcept {
  const int index = certificate_request_index();
  return ssl != nullptr && index >= 0 && SSL_get_ex_data(ssl, index) != nullptr;
}

std::string_view to_string(tls_fault f) noexcept {
  switch (f) {
    case tls_fault::none: return "none";
    case tls_fault::expired_certificate: return "expired_certificate";
    case tls_fault::wrong_host_certificate: return "wrong_host_certificate";
    case tls_fault::untrusted_certificate: return "untrusted_certificate";
    case tls_fault::no_client_certificate_required: return "no_client_certificate_required";
    case tls_fault::reject_client_certificate: return "reject_client_certificate";
  }
  return "none";
}

std::optional<tls_fault> parse_tls_fault(std::string_view name) noexcept {
  for (const auto f : all_tls_faults) {
    if (to_string(f) == name) return f;
  }
  return std::nullopt;
}

server_tls_config server_config_for(tls_fault fault, const pki_layout& pki, bool mtls) {
  server_tls_config c;
  c.cert_file = pki.server_cert();
  c.key_file = pki.server_key();
  if (mtls) c.client_ca_file = pki.ca();
  switch (fault) {
    case tls_fault::none: break;
    case tls_fault::expired_certificate:
      c.cert_file = pki.file("server-expired.pem");
      c.key_file = pki.file("server-expired.key");
      break;
    case tls_fault::wrong_host_certificate:
      c.cert_file = pki.file("server-wrong-host.pem");
      c.key_file = pki.file("server-wrong-host.key");
      break;
    case tls_fault::untrusted_certificate:
      c.cert_file = pki.file("server-untrusted.pem");
      c.key_file = pki.file("server-untrusted.key");
      break;
    case tls_fault::no_client_certificate_required:
      c.client_ca_file.reset();
      break;
    case tls_fault::reject_client_certificate:
      // Trusting only a CA that signed no client the plan holds rejects every client certificate
      // the way a real server does: unknown CA.
      c.client_ca_file = pki.untrusted_ca();
      break;
  }
  return c;
}

client_tls_config client_config_for(const pki_layout& pki, std::string host, bool mtls) {
  client_tls_config c;
  c.ca_file = pki.ca();
  c.host = std::move(host);
  if (mtls) {
    c.cert_file = pki.client_cert();
    c.key_file = pki.client_key();
  }
  return c;
}

std::string server_tls_contexts::load(const pki_layout& pki, bool mtls, std::span<const tls_fault> faults) {
  for (auto& c : contexts_) c.reset();
  auto build = [&](tls_fault f) -> std::string {
    auto& slot = contexts_[static_cast<std::size_t>(f)];
    if (slot) return {};
    auto r = make_server_context(server_config_for(f, pki, mtls));
    if (!r) return "TLS fault " + std::string(to_string(f)) + ": " + r.error;
    slot.emplace(std::move(*r.context));
    return {};
  };
  if (auto e = build(tls_fault::none); !e.empty()) return e;
  for (const auto f : faults) {
    if (auto e = build(f); !e.empty()) return e;
  }
  return {};
}

asio::ssl::context* server_tls_contexts::find(tls_fault f) noexcept {
  const auto i = static_cast<std::size_t>(f);
  if (i >= contexts_.size() || !contexts_[i]) return nullptr;
  return &*contexts_[i];
}

std::string_view to_string(tls_failure f) noexcept {
  switch (f) {
    case tls_failure::none: return "none";
    case tls_failure::certificate_expired: return "certificate expired";
    case tls_failure::certificate_not_yet_valid: return "certificate not yet valid";
    case tls_failure::name_mismatch: return "certificate name mismatch";
    case tls_failure::unknown_ca: return "unknown CA";
    case tls_failure::no_peer_certificate: return "peer did not return a certificate";
    case tls_failure::certificate_required: return "peer requires a client certificate";
    case tls_failure::certificate_rejected: return "certificate rejected";
    case tls_failure::protocol_version: return "no common TLS version";
    case tls_failure::connection_closed: return "connection closed during TLS";
    case tls_failure::protocol_error: return "protocol error";
  }
  return "protocol error";
}

tls_failure classify_tls_error(const error_code& ec, long verify_result) noexcept {
  if (!ec) return tls_failure::none;
  if (ec == ssl::error::stream_truncated || ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe) {
    return tls_failure::connection_closed;
  }
  switch (openssl_reason(ec)) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED: return from_verify_result(verify_result);
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return tls_failure::no_peer_certificate;
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED: return tls_failure::certificate_required;
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED: return tls_failure::certificate_expired;
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA: return tls_failure::unknown_ca;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN: return tls_failure::certificate_rejected;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_VERSION_TOO_LOW: return tls_failure::protocol_version;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING: return tls_failure::connection_closed;
    default: return tls_failure::protocol_error;
  }
}

tls_failure classify_tls_error(const error_code& ec, const SSL* ssl) noexcept {
  if (ssl == nullptr) return classify_tls_error(ec);
  // A TLS 1.2 server that requires a certificate we did not send answers with handshake_failure,
  // which otherwise means "no common cipher": the certificate request tells the two apart.
  if (openssl_reason(ec) == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE && client_certificate_requested(ssl) &&
      SSL_get_certificate(ssl) == nullptr) {
    return tls_failure::certificate_required;
  }
  return classify_tls_error(ec, SSL_get_verify_result(ssl));
}

std::string describe_tls_error(const error_code& ec, const SSL* ssl) {
  const tls_failure f = classify_tls_error(ec, ssl);
  std::string out(to_string(f));
  if (!ec) return out;
  out.append(" (").append(ec.message());
  if (ssl != nullptr && openssl_reason(ec) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    out.append(": ").append(X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
  }
  out.append(")");
  return out;
}

}  // namespace planproof::mocks
