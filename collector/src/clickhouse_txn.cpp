#include "clickhouse_txn.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "clickhouse_rows.hpp"
#include "clickhouse_schema.hpp"

namespace seatlock::collector {
namespace {

namespace rows = clickhouse_rows;
using clickhouse_schema::kEventCols;
constexpr const char* kEventInsertCols =
    "seat_id, time_ms, seq, id, kind, severity, user_name, chain_hash, prev, line, received_ms";

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// What is stored for one seat, as far as this transaction has looked.
struct SeatView {
  std::optional<SeatRecord> stored;  // derived from the tables when first needed
  bool record_loaded = false;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seq_ranges;  // fully loaded seq ranges
  std::multimap<std::uint64_t, StoredEvent> by_seq;                 // loaded rows
  std::map<std::string, std::string> line_by_id;                    // loaded rows' ids
  bool covers(std::uint64_t seq) const {
    return std::any_of(seq_ranges.begin(), seq_ranges.end(),
                       [&](auto& r) { return seq >= r.first && seq <= r.second; });
  }
};

class ClickHouseTxn : public StoreTxn {
 public:
  explicit ClickHouseTxn(const ClickHouseHttp& ch)
      : ch_(ch),
        id_base_((static_cast<std::uint64_t>(wall_ms()) << 20) | (std::random_device{}() & 0xFF)
                                                                     << 12) {}

  // One query for the marks and keys of every seat in the group, one for the stored copies of
  // the group's event ids. A copy of an event has the event's seat and time, so the lookup is
  // the seats' events within their batches' times: the sorting key (seat_id, time_ms, ...) then
  // reads a few granules per seat, never a seat's whole history. The statement names the seats
  // once (IN) and the time windows of all seats merged (usually one): a condition per seat
  // costs ClickHouse an index analysis per seat, part and granule range (3 s of server CPU per
  // group of 500 seats once parts pile up); rows outside their own seat's window are dropped
  // here. Only the small columns are read; the lines of ids found again (a retry: the seat's
  // line is compared with the stored one) come in a second query, only when there are any.
  // No FINAL: remember() keeps one copy of an id. The neighbouring seqs a late re-send needs
  // (events_at) are looked up when asked.
  void prefetch_group(const std::vector<BatchRef>& batches) override {
    struct Want {
      std::int64_t from = INT64_MAX, to = INT64_MIN;
      std::vector<const std::string*> ids;
    };
    std::map<std::string, Want> want;
    for (const auto& b : batches) {
      Want& w = want[*b.seat];
      for (const auto& e : *b.events) {
        w.from = std::min(w.from, e.time_ms);
        w.to = std::max(w.to, e.time_ms);
        w.ids.push_back(&e.id);
      }
    }
    std::erase_if(want, [](const auto& kv) { return kv.second.ids.empty(); });
    if (want.empty()) return;
    std::vector<std::string> seats;
    for (const auto& [seat, w] : want) seats.push_back(seat);
    auto records = rows::load_marks_and_keys(ch_, seats);
    std::string in;
    std::vector<std::pair<std::int64_t, std::int64_t>> windows;
    for (auto& [seat, w] : want) {
      in += (in.empty() ? "" : ",") + ch_quote(seat);
      windows.emplace_back(w.from, w.to);
    }
    std::sort(windows.begin(), windows.end());
    std::string any;
    for (std::size_t i = 0; i < windows.size();) {
      auto [from, to] = windows[i];
      // Windows less than a minute apart are read as one (a few more rows, one condition less).
      for (++i; i < windows.size() && windows[i].first <= to + 60'000; ++i)
        to = std::max(to, windows[i].second);
      any += std::string(any.empty() ? "" : " OR ") + "time_ms BETWEEN " + std::to_string(from) +
             " AND " + std::to_string(to);
    }
    std::unordered_set<std::string_view> group_ids;  // views of the batches' ids
    for (auto& [seat, w] : want)
      for (const auto* id : w.ids) group_ids.insert(*id);
    std::map<std::string, std::set<std::string>> found_again;  // seat -> ids stored before
    ch_.select(
        "SELECT id, seat_id, seq, time_ms, '', '', '', chain_hash, prev, '', received_ms "
        "FROM events PREWHERE seat_id IN (" +
            in + ") AND (" + any + ") ORDER BY seat_id, seq, received_ms, id",
        [&](const rows::Row& r) {
          StoredEvent e = rows::event(r);
          const Want& w = want.at(e.seat_id);
          if (e.time_ms < w.from || e.time_ms > w.to) return;  // another seat's window
          if (group_ids.count(e.id)) found_again[e.seat_id].insert(e.id);
          SeatView& v = views_[e.seat_id];  // before e is moved from
          remember(v, std::move(e));
        });
    if (!found_again.empty()) load_lines(found_again, any);
    for (auto& [seat, w] : want) {
      SeatView& v = views_[seat];
      for (const auto* id : w.ids) looked_up_ids_.insert(*id);
      auto rec = records.find(seat);
      if (rec != records.end()) v.stored = rec->second;
      // Events stored past the mark (their commit died before its marks were written; the seat
      // re-sends them from their first seq) count as stored, as on SQLite.
      if (!v.by_seq.empty() && (!v.stored || v.by_seq.rbegin()->first > v.stored->last_seq)) {
        if (!v.stored) {
          v.stored.emplace();
          v.stored->seat_id = seat;
        }
        v.stored->last_seq = v.by_seq.rbegin()->first;
        v.stored->last_hash = v.by_seq.rbegin()->second.chain_hash;
      }
      v.record_loaded = true;
    }
  }

  void prefetch(const std::string& seat, const std::vector<StoredEvent>& events) override {
    if (events.empty()) return;
    if (std::all_of(events.begin(), events.end(),
                    [&](const StoredEvent& e) { return looked_up_ids_.count(e.id) > 0; }))
      return;  // prefetch_group looked these ids up
    SeatView& v = views_[seat];
    std::uint64_t from = events.front().seq, to = events.back().seq;
    for (const auto& e : events) {
      from = std::min(from, e.seq);
      to = std::max(to, e.seq);
    }
    from = from > 1 ? from - 1 : from;  // the predecessor and successor are checked too
    to += 1;
    std::string ids;
    for (const auto& e : events) ids += (ids.empty() ? "" : ",") + ch_quote(e.id);
    ch_.select(std::string("SELECT ") + kEventCols + " FROM events FINAL WHERE seat_id = " +
                   ch_quote(seat) + " AND (seq BETWEEN " + std::to_string(from) + " AND " +
                   std::to_string(to) + " OR id IN (" + ids + ")) ORDER BY seq, received_ms, id",
               [&](const rows::Row& r) { remember(v, rows::event(r)); });
    v.seq_ranges.emplace_back(from, to);
    for (const auto& e : events) looked_up_ids_.insert(e.id);
  }

  bool insert_event(const StoredEvent& e) override {
    if (pending_by_id_.count(e.id)) return false;
    SeatView& v = views_[e.seat_id];
    if (!looked_up_ids_.count(e.id)) prefetch(e.seat_id, {e});
    if (v.line_by_id.count(e.id)) return false;
    pending_by_id_.emplace(e.id, events_.size());
    events_.push_back(e);
    return true;
  }

  std::optional<std::string> line_by_id(const std::string& id) override {
    if (auto it = pending_by_id_.find(id); it != pending_by_id_.end())
      return events_[it->second].line;
    for (auto& [seat, v] : views_)
      if (auto it = v.line_by_id.find(id); it != v.line_by_id.end()) return it->second;
    auto found = ch_.select_all("SELECT line FROM events WHERE id = " + ch_quote(id) + " LIMIT 1");
    if (found.empty()) return std::nullopt;
    return found[0].at(0);
  }

  std::vector<StoredEvent> events_at(const std::string& seat, std::uint64_t seq) override {
    SeatView& v = views_[seat];
    std::vector<StoredEvent> out;
    if (v.covers(seq)) {
      for (auto [it, end] = v.by_seq.equal_range(seq); it != end; ++it) out.push_back(it->second);
    } else {
      ch_.select(std::string("SELECT ") + kEventCols +
                     " FROM events FINAL WHERE seat_id = " + ch_quote(seat) +
                     " AND seq = " + std::to_string(seq) + " ORDER BY received_ms, id",
                 [&](const rows::Row& r) { out.push_back(rows::event(r)); });
    }
    for (const auto& e : events_)
      if (e.seat_id == seat && e.seq == seq) out.push_back(e);
    return out;
  }

  std::uint64_t count_in_range(const std::string& seat, std::uint64_t from,
                               std::uint64_t to) override {
    std::set<std::uint64_t> mine;
    for (const auto& e : events_)
      if (e.seat_id == seat && e.seq >= from && e.seq <= to) mine.insert(e.seq);
    std::string not_mine;
    for (auto s : mine) not_mine += (not_mine.empty() ? "" : ",") + std::to_string(s);
    auto r =
        ch_.select_all("SELECT uniqExact(seq) FROM events WHERE seat_id = " + ch_quote(seat) +
                       " AND seq BETWEEN " + std::to_string(from) + " AND " + std::to_string(to) +
                       (not_mine.empty() ? "" : " AND seq NOT IN (" + not_mine + ")"));
    return rows::u64(r.at(0).at(0)) + mine.size();
  }

  std::optional<SeatRecord> seat(const std::string& seat) override {
    if (auto it = seats_.find(seat); it != seats_.end()) return it->second;
    SeatView& v = views_[seat];
    if (!v.record_loaded) {
      v.stored = rows::load_seat_for_ingest(ch_, seat);
      v.record_loaded = true;
    }
    return v.stored;
  }

  void put_seat(const SeatRecord& s) override {
    auto it = seats_.find(s.seat_id);
    undo_.push_back(
        {s.seat_id, it == seats_.end() ? std::nullopt : std::optional<SeatRecord>(it->second)});
    seats_[s.seat_id] = s;
  }

  void add_finding(const Finding& f) override {
    Finding g = f;
    g.id = static_cast<std::int64_t>(id_base_ + next_id_++);
    findings_.push_back(g);
  }

  std::vector<Finding> open_gaps(const std::string& seat) override {
    std::vector<Finding> out;
    ch_.select(std::string("SELECT ") + rows::kFindingCols +
                   " FROM findings FINAL WHERE seat_id = " + ch_quote(seat) +
                   " AND kind = 'gap' ORDER BY seq_from, id",
               [&](const rows::Row& r) {
                 Finding f = rows::finding(r);
                 if (!f.resolved) out.push_back(f);
               });
    for (const auto& f : findings_)
      if (f.seat_id == seat && f.kind == "gap") out.push_back(f);
    std::erase_if(out, [&](const Finding& f) {
      return std::find(resolved_.begin(), resolved_.end(), f.id) != resolved_.end();
    });
    return out;
  }

  void resolve_finding(std::int64_t id) override { resolved_.push_back(id); }
  void add_chain_head(const ChainHead& h) override { heads_.push_back(h); }
  void note_refusal(const SeatRefusal& r) override { refusals_.push_back(r); }

  void savepoint() override {
    mark_ = Mark{events_.size(),   heads_.size(),    findings_.size(),
                 resolved_.size(), refusals_.size(), undo_.size()};
  }
  void release() override {}
  void rollback_to() override {
    for (std::size_t i = mark_.events; i < events_.size(); ++i) pending_by_id_.erase(events_[i].id);
    events_.resize(mark_.events);
    heads_.resize(mark_.heads);
    findings_.resize(mark_.findings);
    resolved_.resize(mark_.resolved);
    refusals_.resize(mark_.refusals);
    while (undo_.size() > mark_.undo) {
      auto& [seat, before] = undo_.back();
      if (before)
        seats_[seat] = *before;
      else
        seats_.erase(seat);
      undo_.pop_back();
    }
  }

  void commit() override {
    using nlohmann::json;
    std::string out;
    auto row = [&](const json& j) { out += j.dump() + "\n"; };
    auto send = [&](const char* table) {
      ch_.insert_json_rows(table, out);
      out.clear();
    };
    // Events first: a head, mark or finding never names an event that was not acknowledged.
    // TabSeparated: cheaper than JSON to write here and to parse for the server.
    for (const auto& e : events_) {
      append_tsv_field(out, e.seat_id);
      out += '\t' + std::to_string(e.time_ms) + '\t' + std::to_string(e.seq) + '\t';
      for (const std::string* f :
           {&e.id, &e.kind, &e.severity, &e.user_name, &e.chain_hash, &e.prev, &e.line}) {
        append_tsv_field(out, *f);
        out += '\t';
      }
      out += std::to_string(e.received_ms) + '\n';
    }
    ch_.insert_rows("events (" + std::string(kEventInsertCols) + ")", "TabSeparated", out);
    out.clear();
    for (const auto& h : heads_)
      row({{"seat_id", h.seat_id},
           {"seq", h.seq},
           {"hash", h.hash},
           {"pubkey", h.pubkey_b64},
           {"signature", h.signature_b64},
           {"received_ms", h.received_ms}});
    send("chain_heads");
    for (const auto& f : findings_)
      row({{"id", static_cast<std::uint64_t>(f.id)},
           {"seat_id", f.seat_id},
           {"seq_from", f.seq_from},
           {"seq_to", f.seq_to},
           {"kind", f.kind},
           {"detail", f.detail},
           {"found_ms", f.found_ms}});
    send("findings");
    std::int64_t now = wall_ms();
    for (auto id : resolved_) row({{"id", static_cast<std::uint64_t>(id)}, {"resolved_ms", now}});
    send("finding_resolutions");
    for (const auto& [id, s] : seats_)
      row({{"seat_id", id}, {"last_seq", s.last_seq}, {"last_hash", s.last_hash}});
    send("seat_marks");
    for (const auto& [id, s] : seats_) row({{"seat_id", id}, {"received_ms", s.last_received_ms}});
    send("seat_contacts");
    for (const auto& [id, s] : seats_) {
      const SeatView& v = views_[id];
      std::string before = v.stored ? v.stored->pubkey_b64 : "";
      if (!s.pubkey_b64.empty() && s.pubkey_b64 != before)
        row({{"seat_id", id}, {"pubkey", s.pubkey_b64}, {"set_ms", now}, {"enrolled", 0}});
    }
    send("seat_keys");
    for (const auto& r : refusals_)
      row({{"seat_id", r.seat_id},
           {"last_ms", r.last_ms},
           {"status", r.status},
           {"reason", r.reason},
           {"count", r.count}});
    send("seat_refusals");
  }

 private:
  // The stored lines of ids that prefetch_group found again (first-received copy of each), in
  // the same time windows (`windows`: its OR of BETWEENs), so only those granules are read.
  void load_lines(const std::map<std::string, std::set<std::string>>& ids_by_seat,
                  const std::string& windows) {
    std::string seats, ids;
    for (const auto& [seat, set] : ids_by_seat) {
      seats += (seats.empty() ? "" : ",") + ch_quote(seat);
      for (const auto& id : set) ids += (ids.empty() ? "" : ",") + ch_quote(id);
    }
    std::set<std::pair<std::string, std::string>> done;
    ch_.select("SELECT seat_id, id, line FROM events PREWHERE seat_id IN (" + seats + ") AND (" +
                   windows + ") AND id IN (" + ids + ") ORDER BY received_ms",
               [&](const rows::Row& r) {
                 auto seat = ids_by_seat.find(r.at(0));
                 if (seat == ids_by_seat.end() || !seat->second.count(r.at(1))) return;
                 if (!done.emplace(r.at(0), r.at(1)).second) return;
                 views_[r.at(0)].line_by_id[r.at(1)] = r.at(2);
               });
  }

  void remember(SeatView& v, StoredEvent e) {
    if (v.line_by_id.count(e.id)) return;
    v.line_by_id.emplace(e.id, e.line);
    v.by_seq.emplace(e.seq, std::move(e));
  }

  struct Mark {
    std::size_t events = 0, heads = 0, findings = 0, resolved = 0, refusals = 0, undo = 0;
  };
  const ClickHouseHttp& ch_;
  std::map<std::string, SeatView> views_;
  std::unordered_set<std::string> looked_up_ids_;
  std::unordered_map<std::string, std::size_t> pending_by_id_;
  std::vector<StoredEvent> events_;
  std::vector<ChainHead> heads_;
  std::vector<Finding> findings_;
  std::vector<std::int64_t> resolved_;
  std::vector<SeatRefusal> refusals_;
  std::map<std::string, SeatRecord> seats_;  // put_seat overlay
  std::vector<std::pair<std::string, std::optional<SeatRecord>>> undo_;
  Mark mark_;
  std::uint64_t id_base_, next_id_ = 0;
};

}  // namespace

std::unique_ptr<StoreTxn> begin_clickhouse_txn(const ClickHouseHttp& ch) {
  return std::make_unique<ClickHouseTxn>(ch);
}

}  // namespace seatlock::collector
