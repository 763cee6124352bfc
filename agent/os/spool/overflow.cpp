#include "os/spool/overflow.hpp"

#include <algorithm>

#include "os/spool/spool.hpp"

namespace seatlock::spool_detail {

Reclaimed reclaim(sql::Db& db, std::uint64_t need) {
  Reclaimed r;
  // Pass order is the policy: what the collector already holds, then housekeeping, then (last
  // resort) evidence.
  static const char* kPasses[] = {
      "SELECT seq, size, kind, body FROM events WHERE state = 1 ORDER BY seq",
      "SELECT seq, size, kind, body FROM events WHERE state != 1 AND keep = 0 ORDER BY seq",
      "SELECT seq, size, kind, body FROM events WHERE state != 1 AND keep = 1 ORDER BY seq",
  };
  sql::Stmt del(db, "DELETE FROM events WHERE seq = ?1");
  for (int pass = 0; pass < 3 && r.bytes < need; ++pass) {
    struct Victim {
      std::uint64_t seq, size;
      bool violation;
      std::string overflow_body;  // set when the victim is itself an overflow record
    };
    std::vector<Victim> victims;
    {
      sql::Stmt sel(db, kPasses[pass]);
      std::uint64_t planned = r.bytes;
      while (planned < need && sel.step()) {
        auto seq = static_cast<std::uint64_t>(sel.i64(0));
        auto size = static_cast<std::uint64_t>(sel.i64(1));
        bool is_record = is_loss_record(sel.text(2));
        victims.push_back(
            {seq, size, pass == 2 && !is_record, is_record ? sel.text(3) : std::string()});
        planned += size;
      }
    }
    for (const auto& [seq, size, violation, overflow_body] : victims) {
      if (!overflow_body.empty()) {
        auto d = nlohmann::json::parse(overflow_body, nullptr, false)
                     .value("details", nlohmann::json::object());
        for (const auto& range : d.value("dropped", nlohmann::json::array()))
          r.carried.emplace_back(range.value("first", 0ULL), range.value("last", 0ULL));
        r.carried_violations += d.value("violations", 0ULL);
      }
      del.bind(1, static_cast<std::int64_t>(seq)).run();
      r.bytes += size;
      if (pass == 0) {
        ++r.delivered;
      } else {
        r.lost.push_back(seq);
        if (violation) ++r.lost_violations;
      }
    }
  }
  std::sort(r.lost.begin(), r.lost.end());
  return r;
}

nlohmann::json lost_ranges(const Reclaimed& r, std::uint64_t& count) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> all = r.carried;
  for (auto s : r.lost) all.emplace_back(s, s);
  std::sort(all.begin(), all.end());
  nlohmann::json out = nlohmann::json::array();
  count = 0;
  for (size_t i = 0; i < all.size();) {
    auto [first, last] = all[i];
    size_t j = i + 1;
    while (j < all.size() && all[j].first <= last + 1) last = std::max(last, all[j++].second);
    out.push_back({{"first", first}, {"last", last}});
    count += last - first + 1;
    i = j;
  }
  return out;
}

}  // namespace seatlock::spool_detail
