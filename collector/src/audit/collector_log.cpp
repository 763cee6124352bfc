#include "audit/collector_log.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "ingest.hpp"
#include "signing.hpp"

namespace seatlock::collector::audit {
namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// An exclusive flock on the lock file for the life of the object. flock locks belong to the
// open file description, so two threads of one process that each open the file exclude each
// other as two processes do.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    if (path.empty()) return;
    // 0644: `serve` (its own user) and IT's CLI commands (root) must both be able to open it.
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
      throw std::runtime_error("collector log: cannot open lock file " + path + ": " +
                               std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd_);
      throw std::runtime_error("collector log: cannot lock " + path + ": " + std::strerror(err));
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

std::string host_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string new_event_id(std::int64_t ms) {
  unsigned char rnd[10];
  if (RAND_bytes(rnd, sizeof rnd) != 1) throw std::runtime_error("collector log: no randomness");
  return make_uuid_v7(ms, rnd);
}

}  // namespace

bool is_collector_chain(const std::string& chain_id) {
  return chain_id.rfind(kCollectorChainPrefix, 0) == 0;
}

CollectorLog::CollectorLog(EventStore& store, CollectorIdentity id)
    : store_(store), id_(std::move(id)) {
  if (id_.instance.empty()) throw std::runtime_error("collector log: empty instance name");
  if (id_.raw_private.size() != 32 || id_.raw_public.size() != 32)
    throw std::runtime_error("collector log: the collector key is not an Ed25519 key");
}

StoredEvent CollectorLog::record(const CollectorEventInput& in) {
  // Threads of this process first (cheap), then every process on the host (the lock file),
  // from reading the chain's head to the commit: the chain never forks.
  static std::mutex process_mu;
  std::lock_guard process_lock(process_mu);
  FileLock host_lock(id_.lock_path);

  const std::string chain = id_.chain_id();
  const std::string pub_b64 = base64_encode(id_.raw_public);
  auto txn = store_.begin();
  SeatRecord head = txn->seat(chain).value_or(SeatRecord{});
  if (!head.pubkey_b64.empty() && head.pubkey_b64 != pub_b64)
    throw std::runtime_error("collector log: chain " + chain +
                             " is pinned to another collector key than the one in use; refusing "
                             "to append (was the key file replaced?)");

  std::int64_t now = now_ms();
  Event ev;
  ev.id = new_event_id(now);
  ev.seq = head.last_seq + 1;
  ev.time = now;
  ev.seat_id = chain;
  ev.hostname = host_name();
  ev.kind = in.kind;
  ev.severity = in.severity;
  ev.outcome = in.outcome;
  ev.details = in.details.is_object() ? in.details : nlohmann::json::object();
  if (!in.actor.empty()) ev.details["actor"] = in.actor;
  if (!in.seats.empty()) ev.details["seats"] = in.seats;
  ev.prev = head.last_seq == 0 ? std::string(kGenesisPrev) : head.last_hash;

  // The same path a seat's line takes at ingest: what is stored is exactly what `verify`
  // re-checks, and a malformed event (kind without '.', unknown severity) is refused here.
  std::string line = canonical_bytes(ev);
  auto read = read_event_line(line, 1, now);
  if (auto* rej = std::get_if<Rejection>(&read))
    throw std::runtime_error("collector log: " + in.kind + ": " + rej->message);
  Batch batch;
  batch.seat_id = chain;
  batch.events.push_back(std::get<StoredEvent>(std::move(read)));
  const StoredEvent& e = batch.events.back();
  batch.head = ChainHead{
      chain,
      e.seq,
      e.chain_hash,
      pub_b64,
      base64_encode(ed25519_sign(id_.raw_private, chain_head_message(chain, e.seq, e.chain_hash))),
      now};
  auto applied = apply_batch(*txn, batch, now);
  if (auto* rej = std::get_if<Rejection>(&applied))
    throw std::runtime_error("collector log: " + rej->message);
  if (std::get<Applied>(applied).stored != 1)
    throw std::runtime_error("collector log: event " + e.id + " was not stored");
  txn->commit();
  return batch.events.back();
}

}  // namespace seatlock::collector::audit
