#pragma once
// A StoreTxn over ClickHouse, which has no transactions: everything a group commit writes is
// buffered here (savepoints are marks in the buffers) and sent by commit() as one INSERT per
// table, events first. commit() returns only after ClickHouse acknowledged every INSERT; when
// one fails it throws and the writer answers every batch of the group with an error, so the
// seats retry and whatever did land is acknowledged as duplicates then.
//
// Reads see what is stored plus what this transaction buffered. Several collector instances
// may write at once, so ingest-time findings are best effort per instance; `verify` re-derives
// each seat's chain from the stored events.
#include <memory>

#include "clickhouse_http.hpp"
#include "store.hpp"

namespace seatlock::collector {

std::unique_ptr<StoreTxn> begin_clickhouse_txn(const ClickHouseHttp& ch);

}  // namespace seatlock::collector
