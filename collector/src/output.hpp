#pragma once
// Rendering stored events for people (table) and tools (CSV, NDJSON).
#include <ostream>
#include <string>

#include "store.hpp"

namespace seatlock::collector {

std::string csv_escape(const std::string& field);
void write_csv_header(std::ostream& out);
void write_csv_row(std::ostream& out, const StoredEvent& e);

void write_table_header(std::ostream& out);
void write_table_row(std::ostream& out, const StoredEvent& e);

std::string format_time(std::int64_t ms);  // RFC 3339 UTC with milliseconds; "-" for 0

}  // namespace seatlock::collector
