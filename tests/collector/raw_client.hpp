#pragma once
// Hand-made clients for attack tests: plain TCP connections that stall (slow loris) and a TLS
// connection that sends exactly the bytes a test gives it (request heads without bodies,
// hostile chunk sizes), from a chosen loopback source address.
#include <openssl/ssl.h>

#include <string>

namespace seatlock::testing {

// TCP connection to 127.0.0.1:port, bound to `source` (any 127.x.y.z) when given.
class RawConn {
 public:
  explicit RawConn(int port, const std::string& source = "");
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  bool connected() const { return fd_ >= 0; }
  bool send_bytes(const std::string& data);
  // True once the server closed (EOF or reset) within timeout_ms; data it sent is skipped.
  bool closed_within(int timeout_ms);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

struct RawResponse {
  int status = 0;  // 0 = no complete response head
  std::string head, body;
};

// TLS over a RawConn with the test CA, optionally with a client certificate.
class TlsConn {
 public:
  TlsConn(int port, const std::string& ca, const std::string& cert = "",
          const std::string& key = "", const std::string& source = "");
  ~TlsConn();
  TlsConn(const TlsConn&) = delete;
  TlsConn& operator=(const TlsConn&) = delete;
  bool ok() const { return ssl_ != nullptr; }
  // false once the server stopped taking data (closed, reset, or 5 s without progress).
  bool write(const std::string& data);
  // Subject CN of the certificate the server presented ("" without a connection).
  std::string server_cn() const;
  // Reads one response (head and Content-Length body) for at most timeout_ms.
  RawResponse read_response(int timeout_ms);

 private:
  RawConn conn_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string in_;
};

}  // namespace seatlock::testing
