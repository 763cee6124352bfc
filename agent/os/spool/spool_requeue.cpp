// Spool members for rows the sender takes out of the queue without a collector's "stored":
// setting aside rows of a foreign seat id, and putting quarantined / set-aside rows back.
#include "os/spool/spool.hpp"
#include "os/spool/sqlite.hpp"

namespace seatlock {

SetAsideResult Spool::set_aside_seat(const std::string& seat_id, const std::string& note) {
  SetAsideResult r;
  {
    std::lock_guard lk(db_mu_);
    sql::Transaction tx(*db_);
    sql::Stmt what(*db_,
                   "SELECT count(*), min(seq), max(seq),"
                   " coalesce(sum(kind LIKE 'delivery.%'), 0)"
                   " FROM events WHERE state = 0 AND seat = ?1");
    what.bind(1, seat_id);
    if (what.step()) {
      r.rows = static_cast<std::size_t>(what.i64(0));
      r.first_seq = static_cast<std::uint64_t>(what.i64(1));
      r.last_seq = static_cast<std::uint64_t>(what.i64(2));
      r.notices = static_cast<std::size_t>(what.i64(3));
    }
    what.reset();
    sql::Stmt st(*db_, "UPDATE events SET state = 3, note = ?2 WHERE state = 0 AND seat = ?1");
    st.bind(1, seat_id).bind(2, note).run();
    tx.commit();
  }
  return r;
}

std::size_t Spool::requeue(std::uint64_t first_seq, std::uint64_t last_seq) {
  std::size_t n;
  {
    std::lock_guard lk(db_mu_);
    sql::Stmt st(*db_,
                 "UPDATE events SET state = 0, note = NULL"
                 " WHERE state IN (2, 3) AND seq BETWEEN ?1 AND ?2");
    st.bind(1, static_cast<std::int64_t>(first_seq))
        .bind(2, static_cast<std::int64_t>(last_seq))
        .run();
    n = static_cast<std::size_t>(db_->changes());
  }
  if (n) wake_waiters();
  return n;
}

}  // namespace seatlock
