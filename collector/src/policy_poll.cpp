#include "policy_poll.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <mutex>
#include <unordered_map>

namespace seatlock::collector {

namespace asio = boost::asio;

namespace {

// ?name=digits in a request target; nullopt = absent, false in `ok` = malformed.
std::optional<std::uint64_t> query_number(const std::string& target, const std::string& name,
                                          bool& ok) {
  auto q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string_view rest(target);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.substr(0, pair.find('=')) != name) continue;
    std::string_view value = pair.find('=') == std::string_view::npos
                                 ? std::string_view()
                                 : pair.substr(pair.find('=') + 1);
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) ok = false;
    return n;
  }
  return std::nullopt;
}

HttpResponse no_content() {
  HttpResponse r;
  r.status = 204;
  return r;
}

}  // namespace

struct PolicyPoll::Impl : std::enable_shared_from_this<Impl> {
  struct Waiter {
    Waiter(asio::io_context& io) : timer(asio::make_strand(io)) {}
    asio::steady_timer timer;
    std::string seat;
    std::uint64_t after = 0;
    Respond respond;
    bool done = false;  // under Impl::mu
  };

  asio::io_context& io;
  int max_wait_s;
  mutable std::mutex mu;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> waiting;
  Lookup lookup = [](const std::string&, std::uint64_t) { return std::optional<HttpResponse>(); };
  bool released = false;

  Impl(asio::io_context& io_, int max_wait) : io(io_), max_wait_s(max_wait) {}

  // Answers the waiter once: a newer bundle, or 204.
  void finish(const std::shared_ptr<Waiter>& w) {
    Lookup look;
    {
      std::lock_guard lk(mu);
      if (w->done) return;
      w->done = true;
      auto range = waiting.equal_range(w->seat);
      for (auto it = range.first; it != range.second; ++it)
        if (it->second == w) {
          waiting.erase(it);
          break;
        }
      look = lookup;
    }
    asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    auto bundle = look(w->seat, w->after);
    Respond respond = std::move(w->respond);
    respond(bundle ? std::move(*bundle) : no_content());
  }
};

PolicyPoll::PolicyPoll(asio::io_context& io, int max_wait_s)
    : impl_(std::make_shared<Impl>(io, max_wait_s)) {}
PolicyPoll::~PolicyPoll() = default;

void PolicyPoll::add_routes(Router& router) {
  Route r;
  r.method = "GET";
  r.path = "/v1/policy";
  r.access = Access::seat;
  r.handle = [this](HttpRequest& req, const std::string& seat, const std::string&,
                    Respond respond) { handle(req, seat, std::move(respond)); };
  router.add(std::move(r));
}

void PolicyPoll::set_lookup(Lookup lookup) {
  std::lock_guard lk(impl_->mu);
  impl_->lookup = std::move(lookup);
}

void PolicyPoll::handle(const HttpRequest& req, const std::string& seat, Respond respond) {
  bool ok = true;
  auto after = query_number(req.target, "after", ok);
  auto wait = query_number(req.target, "wait", ok);
  if (!ok)
    return respond(error_response(400,
                                  "after and wait: expected decimal numbers, as in "
                                  "/v1/policy?after=VERSION&wait=SECONDS"));
  auto w = std::make_shared<Impl::Waiter>(impl_->io);
  w->seat = seat;
  w->after = after.value_or(0);
  w->respond = std::move(respond);
  std::uint64_t seconds =
      std::min<std::uint64_t>(wait.value_or(0), static_cast<std::uint64_t>(impl_->max_wait_s));
  Lookup look;
  bool hold = false;
  {
    std::lock_guard lk(impl_->mu);
    hold = !impl_->released && seconds > 0;
    if (hold) impl_->waiting.emplace(seat, w);
    look = impl_->lookup;
  }
  // A bundle may already be newer than `after` (or no wait was asked for): answer now.
  if (!hold || look(seat, w->after)) return impl_->finish(w);
  std::weak_ptr<Impl> weak = impl_;
  asio::post(w->timer.get_executor(), [w, weak, seconds] {
    w->timer.expires_after(std::chrono::seconds(seconds));
    w->timer.async_wait([w, weak](boost::system::error_code ec) {
      if (ec) return;  // cancelled: finish() already answered
      if (auto impl = weak.lock()) impl->finish(w);
    });
  });
}

void PolicyPoll::notify(const std::string& seat) {
  std::vector<std::shared_ptr<Impl::Waiter>> woken;
  {
    std::lock_guard lk(impl_->mu);
    auto range = impl_->waiting.equal_range(seat);
    for (auto it = range.first; it != range.second; ++it) woken.push_back(it->second);
  }
  for (auto& w : woken) impl_->finish(w);
}

void PolicyPoll::release_all() {
  std::vector<std::shared_ptr<Impl::Waiter>> woken;
  {
    std::lock_guard lk(impl_->mu);
    impl_->released = true;
    for (auto& [seat, w] : impl_->waiting) woken.push_back(w);
  }
  for (auto& w : woken) impl_->finish(w);
}

std::size_t PolicyPoll::held() const {
  std::lock_guard lk(impl_->mu);
  return impl_->waiting.size();
}

}  // namespace seatlock::collector
