#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace seatlock::testing {

RawConn::RawConn(int port, const std::string& source) {
  signal(SIGPIPE, SIG_IGN);  // writes to a connection the server closed must fail, not kill us
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (!source.empty()) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &src.sin_addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    close(fd_);
    fd_ = -1;
    return;
  }
  timeval tv{5, 0};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

RawConn::~RawConn() {
  if (fd_ >= 0) close(fd_);
}

bool RawConn::send_bytes(const std::string& data) {
  return fd_ >= 0 &&
         ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

bool RawConn::closed_within(int timeout_ms) {
  if (fd_ < 0) return true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
}

TlsConn::TlsConn(int port, const std::string& ca, const std::string& cert, const std::string& key,
                 const std::string& source)
    : conn_(port, source) {
  if (!conn_.connected()) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM);
  }
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, conn_.fd());
  if (SSL_connect(ssl) != 1) {
    SSL_free(ssl);
    return;
  }
  ssl_ = ssl;
}

TlsConn::~TlsConn() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
}

std::string TlsConn::server_cn() const {
  X509* cert = ssl_ ? SSL_get0_peer_certificate(ssl_) : nullptr;
  if (!cert) return {};
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return cn;
}

bool TlsConn::write(const std::string& data) {
  if (!ssl_) return false;
  std::size_t off = 0;
  while (off < data.size()) {
    int n = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

RawResponse TlsConn::read_response(int timeout_ms) {
  RawResponse r;
  if (!ssl_) return r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[16384];
  while (std::chrono::steady_clock::now() < deadline) {
    auto end = in_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = in_.substr(0, end);
      auto cl = head.find("Content-Length: ");
      std::size_t length =
          cl == std::string::npos ? 0 : std::strtoul(head.c_str() + cl + 16, nullptr, 10);
      if (in_.size() >= end + 4 + length) {
        r.head = head;
        r.status = std::atoi(head.c_str() + 9);
        r.body = in_.substr(end + 4, length);
        in_.erase(0, end + 4 + length);
        return r;
      }
    }
    if (SSL_pending(ssl_) == 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      pollfd p{conn_.fd(), POLLIN, 0};
      if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
    }
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n <= 0) break;
    in_.append(buf, static_cast<std::size_t>(n));
  }
  return r;
}

}  // namespace seatlock::testing
