#pragma once
// OpenSSL server context for the ingest endpoint and the verified client-certificate identity.
#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>

namespace seatlock::collector {

enum class AuthMode {
  cert_or_token,  // ask for a client certificate; a seat without one may use a token
  tokens_only,    // no client certificates requested
  require_cert,   // a valid client certificate is mandatory (TLS handshake fails without)
};

using SslCtx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// Throws std::runtime_error naming the file that could not be used.
SslCtx make_server_ctx(const std::string& cert, const std::string& key, const std::string& ca,
                       AuthMode mode);

// Subject CN of the peer's certificate when one was presented and verified against the CA.
std::optional<std::string> verified_peer_cn(SSL* ssl);

std::string openssl_error();

}  // namespace seatlock::collector
