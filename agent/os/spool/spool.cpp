#include "os/spool/spool.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include <chrono>
#include <stdexcept>

#include "core/event/kinds.hpp"
#include "os/base/clock.hpp"
#include "os/spool/overflow.hpp"
#include "os/spool/spool_rows.hpp"
#include "os/spool/sqlite.hpp"

namespace seatlock {

namespace {

// A row ready to insert: the event (owned by its request) with seq/prev assigned and its
// canonical bytes (owned by the request's prepared event, or by the commit for its own record).
struct Row {
  const Event* event;
  const std::string* body;
  bool keep = false;
};

// hash = sha256_hex(bytes), reusing hash's buffer (the committer chains every event). One
// digest context and one fetched SHA-256 for the spool's life: the one-shot SHA256() looks the
// algorithm up and allocates a context on every call, a third of its time in the profile.
class ChainHasher {
 public:
  ChainHasher() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
    if (!md_ || !ctx_) {
      release();
      throw std::runtime_error("spool: no SHA-256 from OpenSSL");
    }
  }
  ~ChainHasher() { release(); }
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  void operator()(std::string_view bytes, std::string& hash) {
    static const char kHex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1 ||
        EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(ctx_, md, &len) != 1 || len != sizeof md)
      throw std::runtime_error("spool: SHA-256 failed");
    hash.resize(2 * sizeof md);
    for (std::size_t i = 0; i < sizeof md; ++i) {
      hash[2 * i] = kHex[md[i] >> 4];
      hash[2 * i + 1] = kHex[md[i] & 15];
    }
  }

 private:
  void release() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

}  // namespace

bool is_loss_record(const std::string& kind) {
  return kind == to_string(EventKind::SpoolOverflow) ||
         kind == to_string(EventKind::SpoolRecovered);
}

Spool::Spool(const std::string& path, std::uint64_t max_bytes)
    : path_(path), max_bytes_(max_bytes) {
  db_ = std::make_unique<sql::Db>(path, sql::Db::Open::ReadWrite);
  spool_detail::create_schema(*db_);
  committer_ = std::thread([this] { run_committer(); });
}

void Spool::check_usable() {
  std::lock_guard lk(db_mu_);
  auto corrupt = [&](const std::string& why) {
    throw sql::Error("spool " + path_ + ": " + why, SQLITE_CORRUPT);
  };
  sql::Stmt qc(*db_, "PRAGMA quick_check(1)");
  if (!qc.step() || qc.text(0) != "ok") corrupt("quick_check: " + qc.text(0));
  qc.reset();
  try {
    sql::Stmt head(*db_, "SELECT seq, hash, bytes, dropped FROM head WHERE one = 1");
    if (!head.step()) corrupt("the chain head row is missing");
    sql::Stmt cols(*db_, std::string("SELECT ") + spool_detail::kRowColumns +
                             ", keep, size FROM events LIMIT 1");
    cols.step();
  } catch (const sql::Error& e) {
    if (sql::is_corruption(e.code())) throw;
    corrupt(std::string("not the spool schema: ") + e.what());
  }
}

void Spool::set_max_bytes(std::uint64_t max_bytes) {
  std::lock_guard lk(db_mu_);
  max_bytes_ = max_bytes;
}

Event Spool::append(Event draft) {
  std::vector<Event> one;
  one.push_back(std::move(draft));
  return std::move(append_batch(std::move(one)).front());
}

std::vector<Event> Spool::append_batch(std::vector<Event> drafts) {
  if (drafts.empty()) return {};
  return submit(std::move(drafts)).wait();
}

std::vector<Event> Spool::append_sequence(std::vector<Event> drafts,
                                          std::vector<std::uint64_t> gaps_before,
                                          std::uint64_t expect_head) {
  if (drafts.empty()) return {};
  if (gaps_before.size() != drafts.size())
    throw std::logic_error("append_sequence: one gap count per draft expected");
  auto req = std::make_unique<Request>();
  req->drafts = std::move(drafts);
  req->gaps_before = std::move(gaps_before);
  req->expect_head = expect_head;
  prepare_request(*req);
  return enqueue(req).wait();
}

void Spool::continue_chain(std::uint64_t seq, const std::string& hash) {
  std::lock_guard lk(db_mu_);
  sql::Transaction tx(*db_);
  sql::Stmt st(*db_,
               "UPDATE head SET seq = ?1, hash = ?2 WHERE one = 1 AND seq = 0 AND "
               "NOT EXISTS (SELECT 1 FROM events)");
  st.bind(1, static_cast<std::int64_t>(seq)).bind(2, hash).run();
  if (db_->changes() != 1)
    throw std::runtime_error("spool " + path_ + ": cannot continue a chain in a used spool");
  tx.commit();
}

// The statements every commit runs, prepared once (by the committer, under db_mu_).
struct Spool::CommitStatements {
  explicit CommitStatements(sql::Db& db)
      : head(db, "SELECT seq, hash, bytes FROM head WHERE one = 1"),
        insert(db,
               "INSERT INTO events (seq, id, time, seat, kind, severity, keep, state, size, body)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)"),
        update_head(db, "UPDATE head SET seq = ?1, hash = ?2, bytes = ?3 WHERE one = 1") {}
  sql::Stmt head, insert, update_head;
  ChainHasher chain_hash;
};

// Stops the committer once it has stored what is queued.
Spool::~Spool() {
  {
    std::lock_guard lk(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_one();
  committer_.join();
}

void Spool::commit_group(std::vector<Request*>& group) {
  try {
    std::lock_guard db_lk(db_mu_);
    if (!stmts_) stmts_ = std::make_unique<CommitStatements>(*db_);
    sql::Transaction tx(*db_);
    sql::Stmt& head = stmts_->head;
    head.reset();
    if (!head.step()) throw std::runtime_error("spool " + path_ + ": chain head row is missing");
    auto seq = static_cast<std::uint64_t>(head.i64(0));
    std::string hash = head.text(1);
    auto bytes = static_cast<std::uint64_t>(head.i64(2));
    head.reset();

    ChainHasher& chain_hash = stmts_->chain_hash;
    std::vector<Row> rows;
    std::size_t drafts = 0;
    for (const Request* r : group) drafts += r->drafts.size();
    rows.reserve(drafts + 1);
    Event overflow_record;  // outlive rows
    std::string overflow_body;
    std::uint64_t incoming = 0;
    for (Request* r : group) {
      if (r->expect_head && *r->expect_head != seq) {
        r->error = std::make_exception_ptr(
            std::runtime_error("spool " + path_ + ": chain head moved to " + std::to_string(seq) +
                               " (expected " + std::to_string(*r->expect_head) + ")"));
        continue;
      }
      if (r->fence && *r->fence != failed_commits_.load()) {
        r->error = std::make_exception_ptr(std::runtime_error(
            "spool " + path_ + ": not stored, because an earlier commit failed"));
        continue;
      }
      // Ids, times and the canonical bytes were made by the producer (prepare_event).
      for (std::size_t i = 0; i < r->drafts.size(); ++i) {
        Event& e = r->drafts[i];
        if (!r->gaps_before.empty()) seq += r->gaps_before[i];
        e.seq = ++seq;
        e.prev = hash;
        const std::string& body = r->prepared[i].fill(hash, seq);
        chain_hash(body, hash);
        incoming += body.size();
        rows.push_back(Row{&e, &body, r->prepared[i].keep});
      }
    }
    if (rows.empty()) return;

    // Overflow: make room for the incoming rows plus the overflow record, with some slack so
    // that a full spool frees space in chunks rather than one row per append.
    if (bytes + incoming > max_bytes_) {
      std::uint64_t target = max_bytes_ > incoming + max_bytes_ / 20 + 1024
                                 ? max_bytes_ - incoming - max_bytes_ / 20 - 1024
                                 : 0;
      auto freed = spool_detail::reclaim(*db_, bytes - std::min(bytes, target));
      bytes -= std::min(bytes, freed.bytes);
      if (!freed.lost.empty()) {
        const Event& like = *rows.front().event;
        UnixMillis now = now_millis();
        Event& ov = overflow_record;
        ov = make_event(
            EventKind::SpoolOverflow,
            freed.lost_violations + freed.carried_violations ? Severity::High : Severity::Medium,
            Outcome::Dropped);
        ov.id = spool_detail::fresh_event_id(now);
        ov.time = now;
        ov.seat_id = like.seat_id;
        ov.hostname = like.hostname;
        ov.rule = "report.spool_max";
        ov.policy_sha256 = like.policy_sha256;
        std::uint64_t covered = 0;
        nlohmann::json ranges = spool_detail::lost_ranges(freed, covered);
        ov.details = {{"dropped", ranges},
                      {"events", covered},
                      {"violations", freed.lost_violations + freed.carried_violations},
                      {"bytes_freed", freed.bytes},
                      {"spool_max", max_bytes_}};
        ov.seq = ++seq;
        ov.prev = hash;
        overflow_body = canonical_bytes(ov);
        chain_hash(overflow_body, hash);
        incoming += overflow_body.size();
        rows.push_back(Row{&ov, &overflow_body, true});
        sql::Stmt drop(*db_, "UPDATE head SET dropped = dropped + ?1 WHERE one = 1");
        drop.bind(1, static_cast<std::int64_t>(freed.lost.size())).run();
      }
    }

    sql::Stmt& ins = stmts_->insert;
    ins.reset();
    for (const Row& r : rows) {
      const Event& e = *r.event;
      ins.bind(1, static_cast<std::int64_t>(e.seq))
          .bind_static(2, e.id)
          .bind(3, e.time)
          .bind_static(4, e.seat_id)
          .bind_static(5, e.kind)
          .bind_static(6, e.severity)
          .bind(7, r.keep ? 1 : 0)
          .bind(8, static_cast<std::int64_t>(r.body->size()))
          .bind_static(9, *r.body)
          .run();
    }
    sql::Stmt& upd = stmts_->update_head;
    upd.reset();
    upd.bind(1, static_cast<std::int64_t>(seq))
        .bind(2, hash)
        .bind(3, static_cast<std::int64_t>(bytes + incoming))
        .run();
    tx.commit();
    // Each request's drafts now carry their seq and prev: they are handed back as stored.
  } catch (...) {
    failed_commits_.fetch_add(1);
    for (Request* r : group)
      if (!r->error) r->error = std::current_exception();
    return;
  }
  {
    std::lock_guard lk(commit_mu_);
    ++commits_;
  }
  commit_cv_.notify_all();
}

std::vector<SpooledEvent> Spool::next_batch(std::size_t max_events, std::size_t max_body_bytes) {
  std::lock_guard lk(db_mu_);
  sql::Stmt st(*db_, std::string("SELECT ") + spool_detail::kRowColumns +
                         " FROM events WHERE state = 0 ORDER BY seq LIMIT ?1");
  st.bind(1, static_cast<std::int64_t>(max_events ? max_events : 1));
  std::vector<SpooledEvent> out;
  std::size_t body = 0;
  while (st.step()) {
    SpooledEvent r = spool_detail::read_row(st);
    if (!out.empty() &&
        (r.seat_id != out.front().seat_id || body + r.body.size() + 1 > max_body_bytes))
      break;
    body += r.body.size() + 1;
    out.push_back(std::move(r));
  }
  return out;
}

std::size_t Spool::mark_delivered(std::uint64_t first_seq, std::uint64_t upto_seq) {
  std::lock_guard lk(db_mu_);
  sql::Stmt st(*db_, "UPDATE events SET state = 1 WHERE state = 0 AND seq BETWEEN ?1 AND ?2");
  st.bind(1, static_cast<std::int64_t>(first_seq))
      .bind(2, static_cast<std::int64_t>(upto_seq))
      .run();
  return static_cast<std::size_t>(db_->changes());
}

std::size_t Spool::quarantine(std::uint64_t first_seq, std::uint64_t last_seq,
                              const std::string& reason) {
  std::lock_guard lk(db_mu_);
  sql::Stmt st(*db_,
               "UPDATE events SET state = 2, note = ?3 WHERE state = 0 AND seq BETWEEN ?1 AND ?2");
  st.bind(1, static_cast<std::int64_t>(first_seq))
      .bind(2, static_cast<std::int64_t>(last_seq))
      .bind(3, reason)
      .run();
  return static_cast<std::size_t>(db_->changes());
}

std::uint64_t Spool::wait_for_commit(std::uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lk(commit_mu_);
  commit_cv_.wait_for(lk, timeout, [&] { return commits_ != seen; });
  return commits_;
}

void Spool::wake_waiters() {
  {
    std::lock_guard lk(commit_mu_);
    ++commits_;
  }
  commit_cv_.notify_all();
}

SpoolStats Spool::stats() {
  std::lock_guard lk(db_mu_);
  SpoolStats s = spool_detail::read_stats(*db_);
  s.max_bytes = max_bytes_;
  return s;
}

std::vector<SpooledEvent> Spool::query(const SpoolQuery& q) {
  std::lock_guard lk(db_mu_);
  return spool_detail::query(*db_, q);
}

SpoolReader::SpoolReader(const std::string& path) {
  db_ = std::make_unique<sql::Db>(path, sql::Db::Open::ReadOnly);
}
SpoolReader::~SpoolReader() = default;
SpoolStats SpoolReader::stats() {
  return spool_detail::read_stats(*db_);
}
std::vector<SpooledEvent> SpoolReader::query(const SpoolQuery& q) {
  return spool_detail::query(*db_, q);
}

}  // namespace seatlock
