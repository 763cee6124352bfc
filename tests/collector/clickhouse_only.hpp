#pragma once
// The guard of the ClickHouse-only cases: `if (!clickhouse_available()) return;` passes the case
// with a warning in the report where clickhouse-server is not installed (the shared server is
// started on first use otherwise).
#include <catch2/catch.hpp>

#include "store_fixture.hpp"

namespace seatlock::testing {

inline bool clickhouse_available() {
  if (shared_clickhouse()) return true;
  WARN("clickhouse-server is not installed (scripts/deps.d/collector.txt lists it)");
  return false;
}

}  // namespace seatlock::testing
