#pragma once
// ClickHouse's HTTP interface through libcurl: statements are POSTed as the request body (or,
// for INSERT ... FORMAT JSONEachRow, in the query string with the rows as the body). Every
// request carries max_execution_time, because a client that gives up does not cancel a query on
// the server. Results are read as TabSeparated, streamed row by row. Works with ClickHouse 18.16
// (Debian 12) and current releases: no query parameters, errors are "Code: N, ..." bodies.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace seatlock::collector {

struct ClickHouseEndpoint {
  std::string base_url;  // http://host:port (no trailing slash)
  std::string database = "seatlock";
  std::string user, password;  // empty user = server default
  int timeout_s = 30;          // client-side deadline and max_execution_time
};

// "clickhouse:http://HOST:PORT[/?database=NAME&user=U&password_file=F]"'s URL part → endpoint.
// User and password otherwise come from SEATLOCK_CLICKHOUSE_USER / SEATLOCK_CLICKHOUSE_PASSWORD
// (never from the URL itself: command lines are visible to every local user). Throws on bad
// input.
ClickHouseEndpoint parse_clickhouse_url(const std::string& url);

class ClickHouseHttp {
 public:
  explicit ClickHouseHttp(ClickHouseEndpoint ep) : ep_(std::move(ep)) {}
  const ClickHouseEndpoint& endpoint() const { return ep_; }

  // A statement without result rows (DDL, INSERT ... VALUES). Throws with the server's message.
  void exec(const std::string& sql, bool in_database = true) const;
  // INSERT INTO table FORMAT JSONEachRow with `rows` (one JSON object per line). Returns only
  // once the server acknowledged the insert.
  void insert_json_rows(const std::string& table, const std::string& rows) const;
  // INSERT INTO `into` (a table, optionally with a column list) FORMAT `format` with `rows`.
  void insert_rows(const std::string& into, const std::string& format,
                   const std::string& rows) const;
  // SELECT ... (FORMAT TabSeparated is appended): `row` gets each row's unescaped fields.
  // in_database=false: run outside the configured database (which may not exist yet).
  void select(const std::string& sql,
              const std::function<void(const std::vector<std::string>&)>& row,
              bool in_database = true) const;
  std::vector<std::vector<std::string>> select_all(const std::string& sql,
                                                   bool in_database = true) const;

 private:
  std::string post(const std::string& query_string, const std::string& body,
                   const std::function<void(std::string_view)>* sink) const;
  ClickHouseEndpoint ep_;
};

// Appends `field` escaped for a TabSeparated insert (\\, tab, newline, CR, NUL; the inverse of
// what select() unescapes).
void append_tsv_field(std::string& out, std::string_view field);

// 'text' as a ClickHouse string literal (quotes included, \ and ' escaped).
std::string ch_quote(std::string_view text);

}  // namespace seatlock::collector
