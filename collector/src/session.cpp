#include "session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>
#include <optional>

#include "beast_request.hpp"
#include "body_pipe.hpp"
#include "tls_stream.hpp"

namespace seatlock::collector {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kLingerBytes = 256 * 1024;
constexpr std::size_t kStreamChunkBytes = 256 * 1024;  // at most this much per chunk written

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A malformed message (as opposed to the connection ending or failing).
bool is_parse_error(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

class SessionImpl final : public Session {
 public:
  SessionImpl(SessionShared& sh, asio::ip::tcp::socket socket, SSL* ssl,
              ConnRegistry::Admitted admitted, std::string peer)
      : sh_(sh),
        stream_(std::move(socket), ssl),
        deadline_(stream_.get_executor()),
        id_(admitted.id),
        peer_(std::move(peer)),
        busy_retry_after_s_(admitted.busy_retry_after_s) {
    stream_.track_activity(admitted.activity, admitted.hello);
  }
  ~SessionImpl() override {
    if (pipe_) pipe_->cancel();  // a producer never waits for a session that is gone
    release_registry();
    std::lock_guard lk(sh_.mu);
    sh_.live.erase(id_);
    if (sh_.live.empty()) sh_.cv.notify_all();
  }

  void start(Clock::time_point accepted) override {
    asio::post(stream_.get_executor(), [self = me(), accepted] {
      self->state_ = State::handshake;
      self->arm(accepted + std::chrono::seconds(self->sh_.timeouts.handshake_s) - Clock::now());
      self->stream_.async_handshake([self](error_code ec) { self->on_handshake(ec); });
    });
  }

  void stop() override {
    asio::post(stream_.get_executor(), [self = me()] {
      // Between requests (or before the first one is complete): nothing in flight to finish.
      if (self->state_ == State::handshake || self->state_ == State::idle ||
          self->state_ == State::head)
        self->stream_.cancel();
    });
  }

 private:
  enum class State { handshake, idle, head, body, handling, writing, closing };

  std::shared_ptr<SessionImpl> me() {
    return std::static_pointer_cast<SessionImpl>(shared_from_this());
  }
  void log(const std::string& what) {
    std::fprintf(stderr, "seatlock-collector: %s: %s\n", peer_.c_str(), what.c_str());
  }

  // Absolute deadline for the current phase: when it passes, the pending I/O is cancelled and
  // its handler sees timed_out_.
  void arm(Clock::duration left) {
    timed_out_ = false;
    unsigned gen = ++gen_;
    deadline_.expires_after(left);
    deadline_.async_wait([self = me(), gen](error_code ec) {
      if (ec || gen != self->gen_) return;
      self->timed_out_ = true;
      self->stream_.cancel();
    });
  }
  void arm_s(int seconds) { arm(std::chrono::seconds(seconds)); }
  void disarm() {
    ++gen_;
    deadline_.cancel();
  }

  void release_registry() {
    stream_.track_activity(nullptr, nullptr);  // they live in the registry's entry
    if (registered_) sh_.registry->remove(id_);
    registered_ = false;
  }
  // Leaves the registry before the descriptor is closed (its number may be reused at once).
  void close() {
    state_ = State::closing;
    if (pipe_) pipe_->cancel();
    disarm();
    release_registry();
    error_code ignored;
    stream_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  void on_handshake(error_code ec) {
    disarm();
    if (ec) {
      if (timed_out_)
        log("TLS handshake not complete within " + std::to_string(sh_.timeouts.handshake_s) + " s");
      else if (!sh_.stopping && ec != asio::error::operation_aborted)
        log("TLS handshake failed: " +
            (ec == asio::error::connection_aborted ? openssl_error() : ec.message()));
      return close();
    }
    cn_ = verified_peer_cn(stream_.ssl());
    if (cn_) {
      if (!sh_.registry->authenticated(id_)) return close();  // displaced meanwhile
      authenticated_ = true;
    }
    next_request();
  }

  void next_request() {
    if (sh_.stopping) return close();
    parser_.emplace();
    configure_for_head(*parser_);  // the body limit is the route's, set after admission
    head_only_ = false;
    if (buffer_.size() == 0 && authenticated_) {
      // Only an authenticated connection may sit idle between requests; the head deadline then
      // runs from the first byte of the next request.
      state_ = State::idle;
      arm_s(sh_.timeouts.idle_s);
      stream_.async_read_some(buffer_.prepare(1024), [self = me()](error_code ec, std::size_t n) {
        self->disarm();
        if (ec) return self->close();
        self->buffer_.commit(n);
        self->read_head();
      });
      return;
    }
    read_head();
  }

  void read_head() {
    state_ = State::head;
    arm_s(sh_.timeouts.head_s);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = me()](error_code ec, std::size_t) { self->on_head(ec); });
  }

  void on_head(error_code ec) {
    disarm();
    if (timed_out_) {
      std::string why =
          "request head not complete within " + std::to_string(sh_.timeouts.head_s) + " s";
      log(why);
      return answer(error_response(408, why), false, false);
    }
    if (ec == http::error::header_limit)
      return answer(error_response(431, "request head exceeds 16 KiB"), false, true);
    if (is_parse_error(ec)) {
      // Nothing from a client that has not authenticated is looked at further, not even why
      // its head is malformed: it is told to authenticate (RFC 9110 allows either answer).
      if (!authenticated_)
        return answer(error_response(401, "malformed request head (" + ec.message() +
                                              ") from a connection without a client "
                                              "certificate: authenticate first"),
                      false, true);
      return answer(error_response(400, "malformed request head: " + ec.message()), false, true);
    }
    if (ec) return close();

    HttpRequest req = to_http_request(parser_->get());
    head_only_ = req.method == "HEAD";
    auto length = parser_->content_length();
    bool has_body = parser_->chunked() || (length && *length > 0);
    if (busy_retry_after_s_ > 0) {
      // Shed (BacklogShedder, conn_registry.hpp): it waited too long in the listen queue in a
      // storm. Answered before the token check and without reading the body.
      HttpResponse busy = error_response(503, "collector busy (reconnect storm); retry later");
      busy.headers.emplace_back("Retry-After", std::to_string(busy_retry_after_s_));
      return answer(std::move(busy), false, has_body);
    }
    if (req.headers.size() > kMaxHeaderCount)
      return answer(
          error_response(400, "more than " + std::to_string(kMaxHeaderCount) + " header lines"),
          false, has_body);

    Admission a = sh_.router->admit(req, cn_, peer_);
    if (!a.route) {
      // Answered from the head alone; a body that was sent along is never read: close.
      bool keep = authenticated_ && !has_body && parser_->keep_alive() && !sh_.stopping;
      return answer(std::move(a.response), keep, has_body);
    }
    if (!authenticated_) {
      if (!sh_.registry->authenticated(id_)) return close();
      authenticated_ = true;
    }
    route_ = a.route;
    seat_ = std::move(a.seat);
    req_ = std::move(req);
    if (std::string why = framing_error(req_); !why.empty())
      return refuse(error_response(400, why));
    if (has_body && ((length && *length > route_->max_body) || route_->max_body == 0))
      return refuse(error_response(
          413, route_->max_body == 0 ? "this endpoint takes no body" : too_large_text()));
    if (parser_->is_done()) return dispatch();
    parser_->body_limit(route_->max_body);
    state_ = State::body;
    arm_s(sh_.timeouts.body_s);  // the body deadline also covers the 100 Continue
    if (lower(req_.header("expect")) == "100-continue") {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(stream_, asio::buffer(kContinue),
                               [self = me()](error_code ec, std::size_t) {
                                 if (ec) return self->on_body(ec);
                                 self->read_body();
                               });
    }
    read_body();
  }

  std::string too_large_text() const {
    return route_->too_large.empty() ? "body exceeds " + std::to_string(route_->max_body) + " bytes"
                                     : route_->too_large;
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = me()](error_code ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(error_code ec) {
    disarm();
    if (timed_out_) {
      std::string why =
          "request body not complete within " + std::to_string(sh_.timeouts.body_s) + " s";
      log(why);
      return refuse(error_response(408, why));
    }
    if (ec == http::error::body_limit) return refuse(error_response(413, too_large_text()));
    if (ec == http::error::buffer_overflow)
      return refuse(error_response(400, "chunk-size line or trailer exceeds 64 KiB"));
    if (is_parse_error(ec)) return refuse(error_response(400, "malformed body: " + ec.message()));
    if (ec) return close();
    dispatch();
  }

  // A 4xx before the handler ran: remembered for the seat, then answered with close.
  void refuse(HttpResponse r) {
    if (route_->on_refused && !seat_.empty()) route_->on_refused(seat_, r);
    answer(std::move(r), false, true);
  }

  void dispatch() {
    state_ = State::handling;
    req_.body = std::move(parser_->get().body());
    keep_alive_ = parser_->keep_alive();
    parser_.reset();
    if (buffer_.size() == 0) buffer_.shrink_to_fit();  // held polls keep no request memory
    // The answer may come from another thread (the writer, a timer): back onto this strand.
    auto self = me();
    route_->handle(req_, seat_, peer_, [self](HttpResponse r) {
      asio::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable {
        self->answer(std::move(r), self->keep_alive_ && !self->sh_.stopping, false);
      });
    });
    req_ = HttpRequest();
  }

  // Sends r; then the next request (keep), or close, or (linger) let the answer reach a client
  // still sending what will not be read: closing with unread data would reset the connection
  // and could destroy the answer.
  void answer(HttpResponse r, bool keep, bool linger) {
    if (r.stream) return answer_stream(std::move(r), keep);
    state_ = State::writing;
    res_.emplace(static_cast<http::status>(r.status), 11);
    if (r.status != 204 && r.status != 304) {
      res_->set(http::field::content_type, r.content_type);
      res_->body() = std::move(r.body);
      res_->prepare_payload();
      if (head_only_) {
        res_->content_length(res_->body().size());
        res_->body().clear();
      }
    }
    for (const auto& [k, v] : r.headers) res_->insert(k, v);
    res_->keep_alive(keep);
    arm_s(sh_.timeouts.body_s);
    http::async_write(stream_, *res_, [self = me(), keep, linger](error_code ec, std::size_t) {
      self->disarm();
      self->res_.reset();
      if (ec) return self->close();
      if (linger) return self->linger_close();
      if (!keep) {
        self->stream_.shutdown_tls();
        return self->close();
      }
      self->next_request();
    });
  }

  // A streamed body (HttpResponse::stream): the head, then each piece the producer queued as
  // one chunk, then the terminating chunk. Each write has the body deadline; waiting for the
  // producer has none (it is our own thread, and it stops when the pipe is cancelled).
  void answer_stream(HttpResponse r, bool keep) {
    state_ = State::writing;
    pipe_ = std::move(r.stream);
    stream_res_.emplace(static_cast<http::status>(r.status), 11);
    stream_res_->set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) stream_res_->insert(k, v);
    stream_res_->keep_alive(keep);
    stream_res_->chunked(true);
    stream_ser_.emplace(*stream_res_);
    arm_s(sh_.timeouts.body_s);
    http::async_write_header(stream_, *stream_ser_,
                             [self = me(), keep](error_code ec, std::size_t) {
                               self->disarm();
                               if (ec) return self->close();
                               if (self->head_only_) {  // HEAD: no body, and no chunks
                                 self->pipe_->cancel();
                                 return self->end_stream(keep);
                               }
                               self->pump(keep);
                             });
  }
  void pump(bool keep) {
    if (state_ != State::writing || !pipe_) return;
    auto wake = [self = me(), keep] {
      asio::post(self->stream_.get_executor(), [self, keep] { self->pump(keep); });
    };
    switch (pipe_->take(chunk_, kStreamChunkBytes, wake)) {
      case BodyPipe::Status::pending:
        return;
      case BodyPipe::Status::failed:
        log("streamed response failed, closing without its last chunk: " + pipe_->failure());
        return close();
      case BodyPipe::Status::done:
        arm_s(sh_.timeouts.body_s);
        return asio::async_write(stream_, http::make_chunk_last(),
                                 [self = me(), keep](error_code ec, std::size_t) {
                                   self->disarm();
                                   if (ec) return self->close();
                                   self->end_stream(keep);
                                 });
      case BodyPipe::Status::data:
        arm_s(sh_.timeouts.body_s);
        return asio::async_write(stream_, http::make_chunk(asio::buffer(chunk_)),
                                 [self = me(), keep](error_code ec, std::size_t) {
                                   self->disarm();
                                   if (ec) {
                                     if (self->timed_out_)
                                       self->log("client did not read the streamed response");
                                     return self->close();
                                   }
                                   self->pump(keep);
                                 });
    }
  }
  void end_stream(bool keep) {
    pipe_.reset();
    stream_ser_.reset();
    stream_res_.reset();
    std::string().swap(chunk_);
    if (!keep) {
      stream_.shutdown_tls();
      return close();
    }
    next_request();
  }

  // Discards (not buffers) at most kLingerBytes for at most 1 s, then closes.
  void linger_close() {
    state_ = State::closing;
    stream_.shutdown_tls();
    error_code ignored;
    stream_.socket().shutdown(asio::socket_base::shutdown_send, ignored);
    sink_ = std::make_unique<char[]>(4096);
    arm(std::chrono::seconds(1));
    linger_read();
  }
  void linger_read() {
    stream_.socket().async_read_some(asio::buffer(sink_.get(), 4096),
                                     [self = me()](error_code ec, std::size_t n) {
                                       self->lingered_ += n;
                                       if (ec || self->lingered_ >= kLingerBytes)
                                         return self->close();
                                       self->linger_read();
                                     });
  }

  SessionShared& sh_;
  TlsStream stream_;
  asio::steady_timer deadline_;
  ConnRegistry::Id id_;
  std::string peer_;
  int busy_retry_after_s_ = 0;  // > 0: the first request is answered 503 (shed)
  bool registered_ = true;
  State state_ = State::handshake;
  unsigned gen_ = 0;
  bool timed_out_ = false;
  std::optional<std::string> cn_;
  bool authenticated_ = false;
  beast::flat_buffer buffer_{kMaxUnparsedBytes};
  std::optional<RequestParser> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::shared_ptr<BodyPipe> pipe_;  // a streamed response in progress
  std::optional<http::response<http::empty_body>> stream_res_;
  std::optional<http::response_serializer<http::empty_body>> stream_ser_;
  std::string chunk_;  // the chunk being written
  HttpRequest req_;
  const Route* route_ = nullptr;
  std::string seat_;
  bool keep_alive_ = false;
  bool head_only_ = false;
  std::unique_ptr<char[]> sink_;
  std::size_t lingered_ = 0;
};

}  // namespace

std::shared_ptr<Session> Session::create(SessionShared& sh, asio::ip::tcp::socket socket, SSL* ssl,
                                         ConnRegistry::Admitted admitted, std::string peer) {
  auto s = std::make_shared<SessionImpl>(sh, std::move(socket), ssl, admitted, std::move(peer));
  std::lock_guard lk(sh.mu);
  sh.live.emplace(admitted.id, s);
  return s;
}

}  // namespace seatlock::collector
