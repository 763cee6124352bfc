// The single writer's group commit: batches of one group are applied in one transaction, and one
// batch that is refused (pinned key) or fails (a store error mid-batch) is refused alone, with
// none of its events kept, while the other batches of the same group are stored.
#include "writer.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <future>
#include <mutex>

#include "harness.hpp"
#include "ingest.hpp"
#include "seat_sim.hpp"
#include "sqlite_store.hpp"
#include "support/process.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using collector::WriteOutcome;

namespace {

collector::Batch batch_of(const Post& p, const std::string& seat) {
  collector::BatchHeaders h;
  for (const std::string& line : p.headers) {
    auto colon = line.find(':');
    std::string name = line.substr(0, colon), value = line.substr(colon + 2);
    if (name == "X-Seatlock-Key") h.key_b64 = value;
    if (name == "X-Seatlock-Chain-Head") h.chain_head = value;
    if (name == "X-Seatlock-Signature") h.signature_b64 = value;
  }
  auto r = collector::parse_batch(p.body, seat, h, now_ms());
  REQUIRE(std::holds_alternative<collector::Batch>(r));
  return std::get<collector::Batch>(std::move(r));
}

// A store whose transactions forward to a real SQLite store, except that begin() waits while the
// gate is closed (so the test decides which batches form one group) and inserting the event with
// id `poison` throws, as a full disk or an I/O error would.
class GatedStore : public collector::EventStore {
 public:
  explicit GatedStore(collector::EventStore& inner) : inner_(inner) {}
  std::string poison;
  void close_gate() {
    std::lock_guard lk(mu_);
    open_ = false;
  }
  void open_gate() {
    {
      std::lock_guard lk(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool writer_waiting() {
    std::lock_guard lk(mu_);
    return waiting_;
  }

  std::unique_ptr<collector::StoreTxn> begin() override {
    {
      std::unique_lock lk(mu_);
      waiting_ = true;
      cv_.wait(lk, [&] { return open_; });
      waiting_ = false;
    }
    return std::make_unique<Txn>(inner_.begin(), poison);
  }
  void query(const collector::EventFilter& f,
             const std::function<bool(const collector::StoredEvent&)>& fn) override {
    inner_.query(f, fn);
  }
  void scan_seat(const std::string& seat, std::optional<std::int64_t> since,
                 std::optional<std::int64_t> until,
                 const std::function<void(const collector::StoredEvent&)>& fn) override {
    inner_.scan_seat(seat, since, until, fn);
  }
  std::optional<collector::StoredEvent> event_at(const std::string& seat,
                                                 std::uint64_t seq) override {
    return inner_.event_at(seat, seq);
  }
  std::vector<collector::SeatRecord> seats() override { return inner_.seats(); }
  std::vector<collector::Finding> findings(const std::optional<std::string>& seat) override {
    return inner_.findings(seat);
  }
  std::vector<collector::ChainHead> chain_heads(const std::string& seat) override {
    return inner_.chain_heads(seat);
  }
  void add_token(const std::string& h, const std::string& seat, const std::string& k) override {
    inner_.add_token(h, seat, k);
  }
  std::optional<std::string> seat_for_token(const std::string& h) override {
    return inner_.seat_for_token(h);
  }
  std::vector<collector::TokenRecord> tokens() override { return inner_.tokens(); }
  std::size_t revoke_tokens(
      const std::function<bool(const collector::TokenRecord&)>& match) override {
    return inner_.revoke_tokens(match);
  }
  std::vector<collector::SeatRefusal> refusals() override { return inner_.refusals(); }

 private:
  class Txn : public collector::StoreTxn {
   public:
    Txn(std::unique_ptr<collector::StoreTxn> t, std::string poison)
        : t_(std::move(t)), poison_(std::move(poison)) {}
    bool insert_event(const collector::StoredEvent& e) override {
      if (!poison_.empty() && e.id == poison_) throw std::runtime_error("disk I/O error (test)");
      return t_->insert_event(e);
    }
    std::optional<std::string> line_by_id(const std::string& id) override {
      return t_->line_by_id(id);
    }
    std::vector<collector::StoredEvent> events_at(const std::string& s, std::uint64_t q) override {
      return t_->events_at(s, q);
    }
    std::uint64_t count_in_range(const std::string& s, std::uint64_t a, std::uint64_t b) override {
      return t_->count_in_range(s, a, b);
    }
    std::optional<collector::SeatRecord> seat(const std::string& s) override { return t_->seat(s); }
    void put_seat(const collector::SeatRecord& s) override { t_->put_seat(s); }
    void add_finding(const collector::Finding& f) override { t_->add_finding(f); }
    std::vector<collector::Finding> open_gaps(const std::string& s) override {
      return t_->open_gaps(s);
    }
    void resolve_finding(std::int64_t id) override { t_->resolve_finding(id); }
    void add_chain_head(const collector::ChainHead& h) override { t_->add_chain_head(h); }
    void note_refusal(const collector::SeatRefusal& r) override { t_->note_refusal(r); }
    void savepoint() override { t_->savepoint(); }
    void release() override { t_->release(); }
    void rollback_to() override { t_->rollback_to(); }
    void commit() override { t_->commit(); }

   private:
    std::unique_ptr<collector::StoreTxn> t_;
    std::string poison_;
  };

  collector::EventStore& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true, waiting_ = false;
};

std::size_t stored_events(collector::EventStore& store, const std::string& seat) {
  std::size_t n = 0;
  store.scan_seat(seat, std::nullopt, std::nullopt, [&](const collector::StoredEvent&) { ++n; });
  return n;
}

struct Submitted {
  std::promise<WriteOutcome> promise;
  std::future<WriteOutcome> future = promise.get_future();
};

void submit(collector::IngestWriter& w, collector::Batch b, Submitted& s) {
  w.submit_async(std::move(b), [&s](WriteOutcome o) { s.promise.set_value(std::move(o)); });
}

}  // namespace

TEST_CASE("writer: a refused or failing batch is refused alone, its group is stored",
          "[collector][writer]") {
  TempDir dir;
  auto sqlite = collector::open_sqlite_store(dir.path + "/w.db", true, false);
  GatedStore store(*sqlite);
  collector::IngestWriter writer(store, 1u << 20);

  SeatSim pinned("seat-pinned"), impostor("seat-pinned"), good1("seat-good-1"),
      good2("seat-good-2"), faulty("seat-faulty");
  // seat-pinned's key is pinned by its first batch.
  REQUIRE(writer.submit(batch_of(pinned.post(pinned.make(3)), "seat-pinned")).kind ==
          WriteOutcome::Kind::applied);
  auto commits_before = writer.stats().commits;

  // Hold the writer in begin() with a first batch, queue the rest: they form the next group.
  store.close_gate();
  Submitted first, ok1, wrong_key, failing, ok2;
  submit(writer, batch_of(good1.post(good1.make(4)), "seat-good-1"), first);
  REQUIRE(seatlock::test::wait_until([&] { return store.writer_waiting(); }));
  submit(writer, batch_of(good1.post(good1.make(5)), "seat-good-1"), ok1);
  submit(writer, batch_of(impostor.post(impostor.make(6)), "seat-pinned"), wrong_key);
  auto faulty_events = faulty.make(5);
  store.poison = faulty_events[3].id;  // the 4th event: three are written before the error
  submit(writer, batch_of(faulty.post(faulty_events), "seat-faulty"), failing);
  submit(writer, batch_of(good2.post(good2.make(7)), "seat-good-2"), ok2);
  store.open_gate();

  CHECK(first.future.get().kind == WriteOutcome::Kind::applied);
  CHECK(ok1.future.get().kind == WriteOutcome::Kind::applied);
  auto refused = wrong_key.future.get();
  CHECK(refused.kind == WriteOutcome::Kind::rejected);
  CHECK(refused.rejection.status == 403);
  auto failed = failing.future.get();
  CHECK(failed.kind == WriteOutcome::Kind::failed);
  CHECK(failed.error.find("disk I/O error (test)") != std::string::npos);
  auto applied2 = ok2.future.get();
  REQUIRE(applied2.kind == WriteOutcome::Kind::applied);
  CHECK(applied2.applied.stored == 7);

  // Two commits: the held batch, then the other four together.
  CHECK(writer.stats().commits == commits_before + 2);
  CHECK(writer.stats().isolated_commits == 1);
  CHECK(stored_events(store, "seat-good-1") == 9);
  CHECK(stored_events(store, "seat-good-2") == 7);
  CHECK(stored_events(store, "seat-pinned") == 3);  // the impostor's 6 are not kept
  CHECK(stored_events(store, "seat-faulty") == 0);  // nor the 3 written before the error
  for (const auto& s : store.seats()) CHECK(s.seat_id != "seat-faulty");

  // The failed seat retries once the store works again: its batch is stored whole.
  store.poison.clear();
  CHECK(writer.submit(batch_of(faulty.post(faulty_events), "seat-faulty")).kind ==
        WriteOutcome::Kind::applied);
  CHECK(stored_events(store, "seat-faulty") == 5);
}

TEST_CASE("writer: a group of batches that all apply is one commit with every event",
          "[collector][writer]") {
  TempDir dir;
  auto sqlite = collector::open_sqlite_store(dir.path + "/w.db", true, false);
  GatedStore store(*sqlite);
  collector::IngestWriter writer(store, 1u << 20);
  store.close_gate();
  std::vector<SeatSim> sims;
  for (int i = 0; i < 20; ++i) sims.emplace_back("seat-" + std::to_string(i));
  std::vector<Submitted> outs(sims.size() * 2);
  submit(writer, batch_of(sims[0].post(sims[0].make(10)), "seat-0"), outs[0]);
  REQUIRE(seatlock::test::wait_until([&] { return store.writer_waiting(); }));
  for (std::size_t i = 1; i < outs.size(); ++i) {
    SeatSim& s = sims[i % sims.size()];
    submit(writer, batch_of(s.post(s.make(10)), s.seat_id()), outs[i]);
  }
  store.open_gate();
  for (auto& o : outs) CHECK(o.future.get().kind == WriteOutcome::Kind::applied);
  CHECK(writer.stats().commits == 2);
  CHECK(writer.stats().isolated_commits == 0);
  for (const auto& s : sims) CHECK(stored_events(store, s.seat_id()) == 20);
  auto findings = store.findings(std::nullopt);
  CHECK(findings.empty());  // chains continuous across the batches of one group
}

TEST_CASE("count_newlines counts every line ending, whatever the body's length",
          "[collector][ingest]") {
  CHECK(collector::count_newlines("") == 0);
  CHECK(collector::count_newlines("no newline") == 0);
  CHECK(collector::count_newlines("\n\n\n") == 3);
  std::string body;
  for (int i = 0; i < 1000; ++i) body += std::string(static_cast<std::size_t>(i % 97), 'x') + "\n";
  body += "last line without newline";
  CHECK(collector::count_newlines(body) == 1000);
}
