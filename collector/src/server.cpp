#include "server.hpp"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "attest/routes.hpp"
#include "audit/collector_log.hpp"
#include "console/security_headers.hpp"
#include "console/server_routes.hpp"
#include "fleet/bundle_watch.hpp"
#include "fleet/central_config.hpp"
#include "handler.hpp"
#include "listen_socket.hpp"
#include "policy_poll.hpp"
#include "router.hpp"
#include "session.hpp"
#include "store_open.hpp"
#include "writer.hpp"

namespace seatlock::collector {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

void log(const std::string& what) {
  std::fprintf(stderr, "seatlock-collector: %s\n", what.c_str());
}

// The listener, its TLS context (replaced on SIGHUP) and the periodic throughput line. The
// console's own listener is a second Server (primary = false: no signals, no throughput line;
// the primary reloads its certificate too).
class Server {
 public:
  Server(const ServeOptions& opts, asio::io_context& io, SessionShared& sh, IngestWriter& writer,
         PolicyPoll& policy, int listen_fd, AuthMode auth, bool primary)
      : opts_(opts),
        auth_(auth),
        primary_(primary),
        io_(io),
        sh_(sh),
        writer_(writer),
        policy_(policy),
        accept_strand_(asio::make_strand(io)),
        acceptor_(accept_strand_),
        signals_(io, SIGTERM, SIGINT, SIGHUP),
        stats_timer_(io),
        retry_timer_(accept_strand_),
        stall_timer_(accept_strand_),
        shedder_(opts.limits.queue_timeout_s) {
    ctx_ = load_ctx();
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
    acceptor_.assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listen_fd);
  }

  // Sessions still in the io_context end after the Server: they must not call back into it.
  ~Server() { sh_.registry->set_on_room(nullptr); }

  void start() {
    // A paused accept loop goes on when a slot frees (any thread) ...
    sh_.registry->set_on_room([this] { asio::post(accept_strand_, [this] { accept(); }); });
    asio::post(accept_strand_, [this] {
      accept();
      watch_stalls();
    });
    if (!primary_) return;
    wait_signal();
    last_report_ = Clock::now();
    schedule_stats();
  }

  // The console's listener: its certificate is reloaded with this one's on SIGHUP.
  void set_follower(Server* f) { follower_ = f; }

  // Blocks the calling thread until SIGTERM/SIGINT arrived.
  void wait_for_stop_signal() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return stop_requested_; });
  }

  // Stops accepting, closes idle connections, answers held polls; returns once every session
  // has ended or the drain timeout passed (the number still open).
  std::size_t drain() {
    asio::post(accept_strand_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      retry_timer_.cancel();
      stall_timer_.cancel();
    });
    asio::post(io_, [this] { stats_timer_.cancel(); });
    sh_.stopping = true;
    policy_.release_all();
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lk(sh_.mu);
      for (auto& [id, weak] : sh_.live)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) s->stop();
    live.clear();
    std::unique_lock lk(sh_.mu);
    sh_.cv.wait_for(lk, std::chrono::seconds(opts_.drain_timeout_s),
                    [&] { return sh_.live.empty(); });
    return sh_.live.size();
  }

 private:
  std::shared_ptr<SSL_CTX> load_ctx() {
    SslCtx c = make_server_ctx(opts_.cert, opts_.key, opts_.ca, auth_);
    return std::shared_ptr<SSL_CTX>(c.release(), SSL_CTX_free);
  }

  // The accept loop (on accept_strand_, one accept at a time): it accepts only while the
  // registry has room, else pauses and the kernel's listen backlog holds new connections.
  void accept() {
    if (!acceptor_.is_open()) return;
    if (!sh_.registry->reserve()) {
      auto now = Clock::now();
      if (now - last_pause_log_ >= std::chrono::seconds(10)) {
        ConnRegistry::Counts c = sh_.registry->counts();
        log("connection budget full (" + std::to_string(c.open) + " open, " +
            std::to_string(c.unauthenticated) +
            " not authenticated): new connections wait in the listen backlog");
        last_pause_log_ = now;
      }
      return;  // resumed by the registry's on_room or by watch_stalls()
    }
    acceptor_.async_accept(asio::make_strand(io_), [this](error_code ec, auto socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of descriptors: free one held by a stalled client that has not authenticated,
        // and try again shortly (the pending connection stays in the backlog).
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE)
          sh_.registry->displace_stalled();
        retry_timer_.expires_after(std::chrono::milliseconds(50));
        retry_timer_.async_wait([this](error_code e) {
          if (!e) accept();
        });
        return;
      }
      admit(tcp::socket(std::move(socket)));
      accept();
    });
  }

  // ... or when one of the connections holding the budget has stalled since (slowloris).
  void watch_stalls() {
    stall_timer_.expires_after(std::chrono::milliseconds(100));
    stall_timer_.async_wait([this](error_code ec) {
      if (ec) return;
      if (sh_.registry->try_resume()) accept();
      watch_stalls();
    });
  }

  void admit(tcp::socket socket) {
    auto accepted = Clock::now();
    error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    if (peer_gave_up(socket.native_handle())) {
      ++abandoned_;
      return;
    }
    std::string address = remote.address().to_string();
    std::string peer = remote.address().is_v6() ? "[" + address + "]:" : address + ":";
    peer += std::to_string(remote.port());
    std::string why;
    auto admitted = sh_.registry->admit(socket.native_handle(), address, why);
    if (!admitted) {
      socket.close(ec);  // the seat backs off and retries
      if (accepted - last_refusal_log_ >= std::chrono::seconds(10)) {
        log(peer + ": connection refused: " + why);
        last_refusal_log_ = accepted;
      }
      return;
    }
    // Waited too long in the listen queue with others behind it: 503 after the handshake.
    admitted->busy_retry_after_s =
        shedder_.retry_after_for(socket.native_handle(), acceptor_.native_handle());
    socket.set_option(tcp::no_delay(true), ec);
    std::shared_ptr<SSL_CTX> ctx;
    {
      std::lock_guard lk(mu_);
      ctx = ctx_;
    }
    SSL* ssl = SSL_new(ctx.get());  // holds its own reference to the context
    if (!ssl) {
      sh_.registry->remove(admitted->id);
      return;
    }
    Session::create(sh_, std::move(socket), ssl, *admitted, std::move(peer))->start(accepted);
  }

  void wait_signal() {
    signals_.async_wait([this](error_code ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        reload();
        return wait_signal();
      }
      log("signal " + std::to_string(signo) + ", finishing requests in flight");
      std::lock_guard lk(mu_);
      stop_requested_ = true;
      cv_.notify_all();
    });
  }

  // New connections get the new certificate, key and CA; open ones keep theirs. A file that
  // does not load leaves everything as it was.
  void reload() {
    if (follower_) follower_->reload();
    sh_.router->forget_cached_tokens();  // revoked tokens are refused from now on
    try {
      auto fresh = load_ctx();
      std::lock_guard lk(mu_);
      ctx_ = std::move(fresh);
      log("SIGHUP: reloaded " + opts_.cert + ", " + opts_.key +
          (opts_.ca.empty() ? "" : ", " + opts_.ca) + " for new connections");
    } catch (const std::exception& e) {
      log(std::string("SIGHUP: reload failed, keeping the previous certificate: ") + e.what());
    }
  }

  // One line per interval while batches arrive: throughput and group-commit sizes.
  void schedule_stats() {
    stats_timer_.expires_after(std::chrono::seconds(opts_.stats_interval_s));
    stats_timer_.async_wait([this](error_code ec) {
      if (ec) return;
      auto now = Clock::now();
      auto st = writer_.stats();
      if (st.commits != last_stats_.commits) {
        double secs = std::chrono::duration<double>(now - last_report_).count();
        auto commits = static_cast<double>(st.commits - last_stats_.commits);
        ConnRegistry::Counts conns = sh_.registry->counts();
        std::fprintf(stderr,
                     "seatlock-collector: %.0f events/s stored, %.0f commits (%.1f batches each, "
                     "%.1f ms in store each), %zu connections (%zu not authenticated, %zu polls "
                     "held; since start %llu stalled displaced, %llu refused, %llu given up by "
                     "the client in the backlog, %llu answered 503 after waiting there over "
                     "%.1f s, accepting paused %llu times)\n",
                     static_cast<double>(st.events - last_stats_.events) / secs, commits,
                     static_cast<double>(st.batches - last_stats_.batches) / commits,
                     1000 * (st.commit_seconds - last_stats_.commit_seconds) / commits, conns.open,
                     conns.unauthenticated, policy_.held(),
                     static_cast<unsigned long long>(conns.displaced),
                     static_cast<unsigned long long>(conns.refused),
                     static_cast<unsigned long long>(abandoned_.load()),
                     static_cast<unsigned long long>(shedder_.shed()), opts_.limits.queue_timeout_s,
                     static_cast<unsigned long long>(conns.pauses));
      }
      last_stats_ = st;
      last_report_ = now;
      schedule_stats();
    });
  }

  const ServeOptions& opts_;
  AuthMode auth_;
  bool primary_;
  Server* follower_ = nullptr;
  asio::io_context& io_;
  SessionShared& sh_;
  IngestWriter& writer_;
  PolicyPoll& policy_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer stats_timer_, retry_timer_, stall_timer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;
  std::shared_ptr<SSL_CTX> ctx_;
  Clock::time_point last_refusal_log_ = Clock::now() - std::chrono::seconds(60);
  std::atomic<std::uint64_t> abandoned_{0};  // connections the client gave up in the backlog
  BacklogShedder shedder_;                   // on accept_strand_ (shed(): any thread)
  Clock::time_point last_pause_log_ = Clock::now() - std::chrono::seconds(60);
  Clock::time_point last_report_;
  IngestWriter::Stats last_stats_;
};

}  // namespace

int serve(const ServeOptions& opts) {
  // SIGTERM/SIGINT/SIGHUP are taken by the io_context (asio::signal_set, in Server), and only
  // while this thread waits for them: blocked here, every thread started below inherits the
  // block. Once a stop began, a repeated signal stays pending instead of killing the process
  // after asio has put the default action back (Server's destructor) and before exit.
  sigset_t control_signals;
  sigemptyset(&control_signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&control_signals, s);
  pthread_sigmask(SIG_BLOCK, &control_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  mallopt(M_ARENA_MAX, 2);  // a few I/O threads: keep freed request buffers from piling up
  raise_fd_limit();
  int threads = opts.threads > 0
                    ? opts.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  auto store = open_store(opts.db, /*create=*/true, /*serving=*/true);
  IngestWriter writer(*store, opts.max_pending_events);
  Router router(*store, opts.auth);
  IngestEndpoints ingest(writer);
  ingest.add_routes(router);
  // The collector's own signed chain: firmware.attested verdicts (audit/collector_log.hpp).
  auto collector_log =
      audit::collector_log_for_serve(*store, opts.db, opts.collector_key, opts.collector_instance);
  attest::AttestEndpoints attest(opts.db, opts.ek_ca_files,
                                 collector_log.get());  // /v1/attest/* (issue 17)
  attest.add_routes(router);
  ConnRegistry registry(opts.limits);
  SessionShared sh;
  sh.router = &router;
  sh.registry = &registry;
  sh.timeouts = opts.timeouts;
  std::string bound;
  int listen_fd = open_listener("--listen", opts.listen, bound);
  // The console's own listener (--console-listen; routes added below).
  Router console_router(*store, AuthMode::tokens_only);  // no seat routes, no client certs
  console_router.set_decorate(
      [](const std::string&, HttpResponse& r) { console::add_security_headers(r, true); });
  ConnRegistry console_registry(opts.limits);
  SessionShared console_sh;
  console_sh.router = &console_router;
  console_sh.registry = &console_registry;
  console_sh.timeouts = opts.timeouts;

  // Declared after everything the sessions use: destroyed first, with any session left in it.
  asio::io_context io(threads);
  PolicyPoll policy(io, opts.max_poll_wait_s);
  policy.add_routes(router);
  Server server(opts, io, sh, writer, policy, listen_fd, opts.auth, /*primary=*/true);

  // The console (issue 15): its own connection to the store, so its queries never queue behind
  // the ingest writer's lock. Declared after io: its worker pool is joined (answers posted to
  // sessions) before the io_context goes.
  std::string fleet_config = opts.fleet_config;
  if (fleet_config.empty() && std::filesystem::exists(fleet_cli::kDefaultConfig))
    fleet_config = fleet_cli::kDefaultConfig;
  auto console_store = open_store(opts.db, /*create=*/false);
  auto export_store = open_store(opts.db, /*create=*/false);  // long scans: not on the pages
  console::ConsoleConfig console_cfg;
  console_cfg.fleet = {fleet_config, opts.db, opts.collector_instance, opts.collector_key};
  console::ConsoleRoutes console_routes(*console_store, *export_store, collector_log.get(),
                                        console_cfg);
  std::optional<Server> console_server;
  std::string console_bound;
  if (opts.console_listen.empty()) {
    console_routes.add_routes(router);
    router.set_decorate([](const std::string& path, HttpResponse& r) {
      if (console::is_console_path(path)) console::add_security_headers(r, true);
    });
  } else {
    console_routes.add_routes(console_router);
    int console_fd = open_listener("--console-listen", opts.console_listen, console_bound);
    console_server.emplace(opts, io, console_sh, writer, policy, console_fd, AuthMode::tokens_only,
                           /*primary=*/false);
    server.set_follower(&*console_server);
  }

  std::optional<BundleWatch> fleet_bundles;  // destroyed first: stops calling policy.notify
  if (!opts.fleet_bundles.empty()) fleet_bundles.emplace(opts.fleet_bundles, policy);
  server.start();
  if (console_server) console_server->start();
  std::printf("listening %s\n", bound.c_str());
  if (console_server) std::printf("console listening %s\n", console_bound.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "seatlock-collector: listening on %s, store %s, %d I/O threads\n",
               bound.c_str(), describe_store(opts.db).c_str(), threads);

  // A request waiting for the writer has no I/O pending: keep run() going regardless.
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  if (console_server)
    std::fprintf(stderr, "seatlock-collector: console listening on %s\n", console_bound.c_str());
  pthread_sigmask(SIG_UNBLOCK, &control_signals, nullptr);
  server.wait_for_stop_signal();
  pthread_sigmask(SIG_BLOCK, &control_signals, nullptr);
  std::size_t left = server.drain();
  if (console_server) left += console_server->drain();
  if (left)
    std::fprintf(stderr, "seatlock-collector: %zu connections still open after %d s; closing\n",
                 left, opts.drain_timeout_s);
  io.stop();
  for (auto& t : pool) t.join();
  writer.stop();  // commits what is queued; answers go nowhere now
  std::fprintf(stderr, "seatlock-collector: stopped (%llu events stored this run)\n",
               static_cast<unsigned long long>(writer.committed_events()));
  return 0;
}

}  // namespace seatlock::collector
