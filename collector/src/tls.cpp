#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace seatlock::collector {

std::string openssl_error() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown TLS error" : out;
}

SslCtx make_server_ctx(const std::string& cert, const std::string& key, const std::string& ca,
                       AuthMode mode) {
  SslCtx ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Idle keep-alive connections (one per seat) give their TLS buffers back.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1)
    throw std::runtime_error("--cert " + cert + ": " + openssl_error());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error("--key " + key + ": " + openssl_error());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    throw std::runtime_error("--key " + key + " does not match --cert " + cert);
  if (mode != AuthMode::tokens_only) {
    if (ca.empty()) throw std::runtime_error("--ca is required unless --tokens-only");
    if (SSL_CTX_load_verify_locations(ctx.get(), ca.c_str(), nullptr) != 1)
      throw std::runtime_error("--ca " + ca + ": " + openssl_error());
    // Tell clients which CA we accept.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str()))
      SSL_CTX_set_client_CA_list(ctx.get(), names);
    int verify = SSL_VERIFY_PEER;
    if (mode == AuthMode::require_cert) verify |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), verify, nullptr);
    SSL_CTX_set_verify_depth(ctx.get(), 4);
  }
  // Session resumption across reconnects of the same seat (needs an id context with client certs).
  static const unsigned char kSidCtx[] = "seatlock-collector";
  SSL_CTX_set_session_id_context(ctx.get(), kSidCtx, sizeof kSidCtx - 1);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx.get(), 20000);
  // No TLS 1.3 session tickets: the agent opens every POST with a new libcurl handle and no
  // shared session cache, so it never resumes, and each ticket (the session with the seat's
  // certificate, serialized and encrypted) cost ~0.3 ms of the ~1.8 ms an mTLS handshake takes
  // on this server (OpenSSL's default is 2). Set 1 here once the agent keeps sessions (CURLSH
  // with CURL_LOCK_DATA_SSL_SESSION).
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  return ctx;
}

std::optional<std::string> verified_peer_cn(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx < 0) return std::nullopt;
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return std::nullopt;
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  if (cn.empty()) return std::nullopt;
  return cn;
}

}  // namespace seatlock::collector
