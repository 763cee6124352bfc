#include "console/export_verify.hpp"

#include <chrono>
#include <map>
#include <set>
#include <tuple>
#include <variant>

#include "console/export_manifest.hpp"
#include "console/filter.hpp"
#include "core/util/digest.hpp"
#include "ingest.hpp"
#include "output.hpp"

namespace seatlock::collector::console {
namespace {

constexpr std::size_t kMaxMissingKept = 1000;

using Key = std::tuple<std::int64_t, std::string, std::uint64_t>;  // export order
Key key_of(const StoredEvent& e) {
  return {e.time_ms, e.seat_id, e.seq};
}
std::string where(const StoredEvent& e) {
  return "seat " + e.seat_id + " seq " + std::to_string(e.seq);
}

struct Row {
  std::uint64_t number = 0;
  bool valid = false;  // the line is an event (ev filled)
  StoredEvent ev;
};

// Reads the export row by row, hashing exactly the bytes of the file and checking each row on
// its own (columns vs line, chain hash, order, filter).
class FileRows {
 public:
  FileRows(std::istream& in, ExportFormat format, const ConsoleFilter& filter,
           ExportVerification& out)
      : in_(in), csv_(in), format_(format), filter_(filter), out_(out) {
    if (format_ == ExportFormat::csv) {
      std::vector<std::string> fields;
      std::string raw, err;
      if (!csv_.next(fields, raw, err) || raw != csv_header())
        out_.problems.push_back("the CSV header is not \"" +
                                csv_header().substr(0, csv_header().size() - 2) + "\"");
      digest_.header(raw);
    }
  }

  bool next(Row& r) {
    std::string line, raw;
    if (format_ == ExportFormat::ndjson) {
      if (in_.peek() == std::char_traits<char>::eof()) return false;
      std::getline(in_, line);
      raw = line;
      if (!in_.eof()) raw += '\n';
    } else {
      std::vector<std::string> fields;
      std::string err;
      if (!csv_.next(fields, raw, err)) return false;
      r = Row{digest_.rows() + 1, false, {}};
      digest_.row(raw);
      if (!err.empty()) problem(r, "altered: " + err);
      if (fields.size() != kCsvColumns) {
        problem(r, "altered: " + std::to_string(fields.size()) + " columns instead of " +
                       std::to_string(kCsvColumns));
        return true;
      }
      if (!read(r, fields[9])) return true;
      check_columns(r, fields);
      check_row(r);
      return true;
    }
    r = Row{digest_.rows() + 1, false, {}};
    digest_.row(raw);
    if (raw.back() != '\n') problem(r, "altered: the file ends without a newline (truncated?)");
    if (read(r, line)) check_row(r);
    return true;
  }

  ExportDigest& digest() { return digest_; }

 private:
  void problem(const Row& r, const std::string& what) {
    out_.problems.push_back("row " + std::to_string(r.number) + " " + what);
  }
  bool read(Row& r, const std::string& line) {
    auto parsed = read_event_line(line, static_cast<int>(r.number), 0);
    if (auto* rej = std::get_if<Rejection>(&parsed)) {
      problem(r, "altered: the line is not a valid event (" + rej->message + ")");
      return false;
    }
    r.ev = std::get<StoredEvent>(std::move(parsed));
    r.valid = true;
    return true;
  }
  void check_columns(const Row& r, const std::vector<std::string>& f) {
    const StoredEvent& e = r.ev;
    const std::string expect[kCsvColumns - 1] = {
        format_time(e.time_ms), e.seat_id, std::to_string(e.seq), e.kind, e.severity, e.user_name,
        line_outcome(e.line),   e.id,      e.chain_hash};
    static const char* kNames[] = {"time", "seat",    "seq", "kind",      "severity",
                                   "user", "outcome", "id",  "chain_hash"};
    for (std::size_t i = 0; i < kCsvColumns - 1; ++i) {
      if (f[i] == expect[i]) continue;
      if (i == 8)
        problem(r, "altered: its line does not hash to its chain_hash column (" + f[i] + ")");
      else
        problem(r, std::string("altered: its ") + kNames[i] + " column says " +
                       nlohmann::json(f[i]).dump() + ", its line says " +
                       nlohmann::json(expect[i]).dump());
    }
  }
  void check_row(const Row& r) {
    Key k = key_of(r.ev);
    if (last_ && !(*last_ < k))
      problem(r, "(" + where(r.ev) + ") is out of export order (time, seat, seq ascending)");
    last_ = k;
    // Neighbours in a seat's chain: a line whose bytes changed no longer hashes to what the
    // next event names as prev (this locates a change even in NDJSON, which has no hash column).
    auto [it, fresh] = chain_.try_emplace(r.ev.seat_id, Link{r.number, r.ev.seq, r.ev.chain_hash});
    if (!fresh) {
      if (it->second.seq + 1 == r.ev.seq && r.ev.prev != it->second.hash)
        out_.problems.push_back("row " + std::to_string(it->second.row) + " altered (or row " +
                                std::to_string(r.number) +
                                "'s prev): it does not hash to the prev of seat " + r.ev.seat_id +
                                " seq " + std::to_string(r.ev.seq) + " (row " +
                                std::to_string(r.number) + ")");
      it->second = Link{r.number, r.ev.seq, r.ev.chain_hash};
    }
    if (!matches(filter_, r.ev)) problem(r, "(" + where(r.ev) + ") does not match the filter");
  }

  std::istream& in_;
  CsvReader csv_;
  ExportFormat format_;
  const ConsoleFilter& filter_;
  ExportVerification& out_;
  ExportDigest digest_;
  std::optional<Key> last_;
  struct Link {
    std::uint64_t row, seq;
    std::string hash;
  };
  std::map<std::string, Link> chain_;  // per seat: its last row so far
};

std::string str(const nlohmann::json& m, const char* name) {
  auto it = m.find(name);
  if (it == m.end() || !it->is_string())
    throw std::runtime_error(std::string("manifest: \"") + name + "\" missing or not a string");
  return it->get<std::string>();
}
std::uint64_t num(const nlohmann::json& m, const char* name) {
  auto it = m.find(name);
  if (it == m.end() || !it->is_number_integer())
    throw std::runtime_error(std::string("manifest: \"") + name + "\" missing or not a number");
  return it->get<std::uint64_t>();
}

void check_signature(const nlohmann::json& m, const std::optional<std::string>& pinned,
                     EventStore* store, ExportVerification& out) {
  const nlohmann::json& c = m.at("collector");
  std::string named = str(c, "pubkey"), chain = str(c, "chain");
  std::string key = named,
              source = "the key the manifest names (pass --collector-pubkey to pin it)";
  if (pinned) {
    if (*pinned != named)
      out.problems.push_back("manifest signature wrong: the manifest names collector key " + named +
                             ", not the --collector-pubkey " + *pinned);
    key = *pinned;
    source = "the --collector-pubkey";
  } else if (store) {
    auto seats = store->seats();
    auto it = std::find_if(seats.begin(), seats.end(),
                           [&](const SeatRecord& s) { return s.seat_id == chain; });
    if (it != seats.end() && !it->pubkey_b64.empty()) {
      if (it->pubkey_b64 != named)
        out.problems.push_back("manifest signature wrong: the store's collector chain " + chain +
                               " is pinned to key " + it->pubkey_b64 + ", the manifest names " +
                               named);
      key = it->pubkey_b64;
      source = "the key the store's collector chain " + chain + " is pinned to";
    }
  }
  std::string raw;
  if (!base64_decode(key, raw) || raw.size() != 32 || !manifest_signature_ok(m, raw))
    out.problems.push_back("manifest signature wrong: not a valid signature by " + source + " (" +
                           key + "); the manifest was altered or signed with another key");
  else
    out.notes.push_back("manifest signature good (" + source + ": " + key + ")");
}

void check_digest(ExportDigest& d, const nlohmann::json& m, ExportVerification& out) {
  std::uint64_t rows = num(m, "rows"), bytes = num(m, "bytes");
  if (d.rows() != rows)
    out.problems.push_back("the file has " + std::to_string(d.rows()) + " rows, the manifest " +
                           std::to_string(rows) + " (rows were removed or added)");
  if (d.bytes() != bytes)
    out.problems.push_back("the file has " + std::to_string(d.bytes()) + " bytes, the manifest " +
                           std::to_string(bytes));
  std::string sha = str(m, "sha256");
  if (d.sha256() != sha) {
    out.problems.push_back("the file's sha256 " + d.sha256() + " differs from the manifest's " +
                           sha);
    const auto& blocks = m.at("blocks");
    const auto& mine = d.blocks();
    for (std::size_t i = 0; i < std::max(mine.size(), blocks.size()); ++i) {
      if (i < mine.size() && i < blocks.size() && blocks[i] == mine[i]) continue;
      out.problems.push_back("the first change is in rows " + std::to_string(i * kBlockRows + 1) +
                             ".." + std::to_string((i + 1) * kBlockRows) +
                             " (their sha256 differs from the manifest's block " +
                             std::to_string(i + 1) + ")");
      break;
    }
  }
}

}  // namespace

ExportVerification verify_export(std::istream& file, const nlohmann::json& manifest,
                                 const std::optional<std::string>& pinned_pubkey_b64,
                                 EventStore* store) {
  ExportVerification out;
  if (!manifest.is_object() || manifest.value("schema", "") != kManifestSchema)
    throw std::runtime_error(std::string("manifest: not a ") + kManifestSchema + " document");
  auto format = parse_export_format(str(manifest, "format"));
  if (!format) throw std::runtime_error("manifest: unknown format " + str(manifest, "format"));
  std::map<std::string, std::string> query;
  for (const auto& [k, v] : manifest.at("filter").items())
    if (v.is_string()) query[k] = v.get<std::string>();
  ConsoleFilter filter;
  if (auto err = parse_filter(query, filter)) throw std::runtime_error("manifest filter: " + *err);
  const auto as_of = static_cast<std::int64_t>(num(manifest, "as_of_ms"));
  check_signature(manifest, pinned_pubkey_b64, store, out);

  FileRows rows(file, *format, filter, out);
  Row cur;
  bool have = rows.next(cur);
  auto advance = [&] { have = rows.next(cur); };
  std::vector<StoredEvent> missing;  // the first kMaxMissingKept (a file of another filter...)
  std::uint64_t missing_beyond = 0;
  std::set<std::pair<std::string, std::uint64_t>> altered;
  // A row the store scan did not produce at its place: altered, out of the filter, or absent.
  auto not_in_scan = [&](const Row& r) {
    if (!r.valid) return;
    auto stored = store->event_at(r.ev.seat_id, r.ev.seq);
    std::string n = "row " + std::to_string(r.number) + " ";
    if (!stored) {
      out.problems.push_back(n + "(" + where(r.ev) + ") is not in the store");
    } else if (stored->line != r.ev.line) {
      altered.insert({r.ev.seat_id, r.ev.seq});
      out.problems.push_back(n + "altered: " + where(r.ev) + " differs from the store");
    } else if (stored->received_ms > as_of) {
      out.problems.push_back(n + "(" + where(r.ev) + ") was received after the export began");
    }  // else: it does not match the filter, reported by FileRows
  };
  if (store) {
    scan_matches(*store, filter, [&](const StoredEvent& s) {
      if (s.received_ms > as_of) return true;
      while (have && (!cur.valid || key_of(cur.ev) < key_of(s))) {
        not_in_scan(cur);
        advance();
      }
      if (have && key_of(cur.ev) == key_of(s)) {
        if (cur.ev.line != s.line) {
          altered.insert({s.seat_id, s.seq});
          out.problems.push_back("row " + std::to_string(cur.number) + " altered: " + where(s) +
                                 " differs from the store");
        }
        advance();
      } else if (missing.size() < kMaxMissingKept) {
        missing.push_back(s);
      } else {
        ++missing_beyond;
      }
      return true;
    });
  }
  for (; have; advance())
    if (store) not_in_scan(cur);
  for (const StoredEvent& s : missing)
    if (!altered.count({s.seat_id, s.seq}))
      out.problems.push_back(where(s) + " (" + format_time(s.time_ms) + ", " + s.kind +
                             ") is in the store and matches the filter but is missing from the "
                             "export");
  if (missing_beyond)
    out.problems.push_back("and " + std::to_string(missing_beyond) +
                           " more events of the store are missing from the export");
  out.rows = rows.digest().rows();
  check_digest(rows.digest(), manifest, out);
  if (out.ok()) {
    out.notes.push_back(std::to_string(out.rows) + " rows, sha256 " + rows.digest().sha256() +
                        " as in the manifest");
    if (store)
      out.notes.push_back("every row is in the store unaltered and no matching event is missing");
  }
  return out;
}

}  // namespace seatlock::collector::console
