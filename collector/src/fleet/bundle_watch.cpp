#include "bundle_watch.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "../policy_poll.hpp"
#include "bundle_dir.hpp"

namespace seatlock::collector {

namespace {

using Index = std::map<std::string, fleet_cli::PublishedBundle>;

struct Shared {
  std::mutex mu;
  std::shared_ptr<const Index> index = std::make_shared<Index>();
};

}  // namespace

struct BundleWatch::Impl {
  std::string dir;
  PolicyPoll& poll;
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::uint64_t current = 0;
  int inotify_fd = -1;
  int stop_fd = -1;
  std::thread thread;

  Impl(const std::string& d, PolicyPoll& p) : dir(d), poll(p) {}

  // Re-reads DIR when its commit point moved; wakes the seats whose bundle changed.
  void refresh() {
    std::uint64_t now_current = 0;
    std::shared_ptr<const Index> fresh;
    try {
      fleet_cli::BundleDir bundles(dir);
      now_current = bundles.current_version();
      if (now_current == current) return;
      fresh = std::make_shared<const Index>(bundles.read_all());
    } catch (const std::exception& e) {  // keeps serving the last index; retried in 1 s
      std::fprintf(stderr, "seatlock-collector: fleet bundles: %s\n", e.what());
      return;
    }
    std::shared_ptr<const Index> old;
    {
      std::lock_guard lk(shared->mu);
      old = shared->index;
      shared->index = fresh;
    }
    current = now_current;
    std::fprintf(stderr, "seatlock-collector: fleet bundles version %llu for %zu seats\n",
                 static_cast<unsigned long long>(current), fresh->size());
    for (const auto& [seat, b] : *fresh) {
      auto it = old->find(seat);
      if (it == old->end() || it->second.version != b.version) poll.notify(seat);
    }
  }

  void run() {
    while (true) {
      pollfd fds[2] = {{stop_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
      int n = ::poll(fds, inotify_fd >= 0 ? 2 : 1, 1000);
      if (n > 0 && (fds[0].revents & POLLIN)) return;
      if (n > 0 && inotify_fd >= 0 && (fds[1].revents & POLLIN)) {
        char buf[4096];
        while (::read(inotify_fd, buf, sizeof buf) > 0) {
        }
      }
      refresh();
    }
  }
};

BundleWatch::BundleWatch(const std::string& dir, PolicyPoll& poll)
    : impl_(std::make_unique<Impl>(dir, poll)) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // so it can be watched before the first publish
  impl_->stop_fd = ::eventfd(0, EFD_CLOEXEC);
  impl_->inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (impl_->inotify_fd >= 0 &&
      ::inotify_add_watch(impl_->inotify_fd, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
    ::close(impl_->inotify_fd);
    impl_->inotify_fd = -1;  // the 1 s re-check still finds publishes
  }
  std::weak_ptr<Shared> shared = impl_->shared;
  poll.set_lookup(
      [shared](const std::string& seat, std::uint64_t after) -> std::optional<HttpResponse> {
        auto s = shared.lock();
        if (!s) return std::nullopt;
        std::shared_ptr<const Index> index;
        {
          std::lock_guard lk(s->mu);
          index = s->index;
        }
        auto it = index->find(seat);
        if (it == index->end() || it->second.version <= after) return std::nullopt;
        HttpResponse r;
        r.body = it->second.document;
        r.headers.emplace_back("X-Seatlock-Bundle-Version", std::to_string(it->second.version));
        return r;
      });
  impl_->refresh();
  impl_->thread = std::thread([this] { impl_->run(); });
}

BundleWatch::~BundleWatch() {
  std::uint64_t one = 1;
  if (::write(impl_->stop_fd, &one, sizeof one) != sizeof one) {
  }
  impl_->thread.join();
  if (impl_->inotify_fd >= 0) ::close(impl_->inotify_fd);
  ::close(impl_->stop_fd);
}

}  // namespace seatlock::collector
