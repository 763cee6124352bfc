#pragma once
// An Asio stream (AsyncReadStream + AsyncWriteStream, for Beast) of OpenSSL directly on the
// non-blocking socket: SSL_read/SSL_write, and on WANT_READ/WANT_WRITE an async_wait for the
// socket to become ready. Internal to the server's .cpp files (heavy headers).
//
// Why not asio::ssl::stream: it allocates two 17 KiB buffers per stream (stream_core.hpp) and
// OpenSSL's BIO pair behind it two more, about 70 KiB per connection whether idle or not; with
// 10,000 seats each holding a long-poll that alone is ~700 MiB. OpenSSL on the socket with
// SSL_MODE_RELEASE_BUFFERS (tls.cpp) keeps an idle connection at a few KiB.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>

namespace seatlock::collector {

namespace asio = boost::asio;
using boost::system::error_code;

class TlsStream {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;

  // Takes ownership of ssl (freed with the stream).
  TlsStream(asio::ip::tcp::socket socket, SSL* ssl) : socket_(std::move(socket)), ssl_(ssl) {
    socket_.non_blocking(true);
    SSL_set_fd(ssl_, socket_.native_handle());
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  ~TlsStream() { SSL_free(ssl_); }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  asio::ip::tcp::socket& socket() { return socket_; }
  SSL* ssl() { return ssl_; }

  template <class Handler>
  auto async_handshake(Handler&& handler) {
    return asio::async_compose<Handler, void(error_code)>(
        Op<Kind::handshake, asio::mutable_buffer>{*this, {}}, handler, socket_);
  }
  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return asio::async_compose<Handler, void(error_code, std::size_t)>(
        Op<Kind::read, asio::mutable_buffer>{*this, first_nonempty<asio::mutable_buffer>(buffers)},
        handler, socket_);
  }
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return asio::async_compose<Handler, void(error_code, std::size_t)>(
        Op<Kind::write, asio::const_buffer>{*this, first_nonempty<asio::const_buffer>(buffers)},
        handler, socket_);
  }
  // Ends the pending operation with operation_aborted (deadlines, shutdown); also one that is
  // between two steps and not waiting on the socket at this moment. Same strand as the op.
  void cancel() {
    aborted_ = true;
    error_code ignored;
    socket_.cancel(ignored);
  }
  // Every step of an operation (its start, each wake-up on the socket) stores the steady-clock
  // time in `activity`: how long the server has been waiting on this peer; `hello` is set once
  // the handshake has answered the client's ClientHello (conn_registry.hpp). nullptrs stop it
  // (before the registry forgets the connection).
  void track_activity(std::atomic<std::int64_t>* activity, std::atomic<bool>* hello) {
    activity_ = activity;
    hello_ = hello;
  }
  // One non-blocking attempt at close_notify; the socket is closed right after anyway.
  void shutdown_tls() {
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }

 private:
  enum class Kind { handshake, read, write };

  template <class Buffer, class Buffers>
  static Buffer first_nonempty(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it)
      if (Buffer b(*it); b.size() > 0) return b;
    return Buffer();
  }

  template <Kind K, class Buffer>
  struct Op {
    TlsStream& s;
    Buffer buf;
    bool started = false;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (s.activity_)
        s.activity_->store(std::chrono::steady_clock::now().time_since_epoch().count(),
                           std::memory_order_relaxed);
      if (!started) {
        // Never complete inside the initiating call (Beast's loops rely on it).
        started = true;
        s.aborted_ = false;
        return asio::post(s.socket_.get_executor(), std::move(self));
      }
      if (ec) return finish(self, ec, 0);
      if (s.aborted_) return finish(self, asio::error::operation_aborted, 0);
      if constexpr (K != Kind::handshake)
        if (buf.size() == 0) return finish(self, {}, 0);
      ERR_clear_error();
      errno = 0;
      int n;
      if constexpr (K == Kind::handshake) {
        n = SSL_accept(s.ssl_);
        // Bytes written = ServerHello sent = a complete ClientHello was read.
        if (s.hello_ && BIO_number_written(SSL_get_wbio(s.ssl_)) > 0)
          s.hello_->store(true, std::memory_order_relaxed);
      } else if constexpr (K == Kind::read)
        n = SSL_read(s.ssl_, buf.data(),
                     static_cast<int>(std::min<std::size_t>(buf.size(), INT_MAX)));
      else
        n = SSL_write(s.ssl_, buf.data(),
                      static_cast<int>(std::min<std::size_t>(buf.size(), INT_MAX)));
      if (n > 0) return finish(self, {}, K == Kind::handshake ? 0 : static_cast<std::size_t>(n));
      int err = SSL_get_error(s.ssl_, n);
      if (err == SSL_ERROR_WANT_READ)
        return s.socket_.async_wait(asio::socket_base::wait_read, std::move(self));
      if (err == SSL_ERROR_WANT_WRITE)
        return s.socket_.async_wait(asio::socket_base::wait_write, std::move(self));
      if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0))
        return finish(self, asio::error::eof, 0);
      if (err == SSL_ERROR_SYSCALL)
        return finish(self, error_code(errno, boost::system::system_category()), 0);
      return finish(self, asio::error::connection_aborted, 0);  // TLS protocol error
    }

    template <class Self>
    void finish(Self& self, error_code ec, std::size_t n) {
      if constexpr (K == Kind::handshake)
        self.complete(ec);
      else
        self.complete(ec, n);
    }
  };

  asio::ip::tcp::socket socket_;
  SSL* ssl_;
  bool aborted_ = false;
  std::atomic<std::int64_t>* activity_ = nullptr;
  std::atomic<bool>* hello_ = nullptr;
};

}  // namespace seatlock::collector
