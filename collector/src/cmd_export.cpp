// export: evidence files for a time range, one per seat, plus manifest.json with the SHA-256
// of each file, counts, range and who/where/when exported (chain of custody).
#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.hpp"
#include "core/util/args.hpp"
#include "core/util/digest.hpp"
#include "output.hpp"
#include "seatlock/version.hpp"
#include "store_open.hpp"

namespace seatlock::collector {
namespace {

namespace fs = std::filesystem;

std::string file_sha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(in.gcount()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return hex_encode(std::string_view(reinterpret_cast<char*>(md), len));
}

// Seat ids become file names: readable, never a path, and injective even on case-insensitive
// file systems (an auditor copies exports to anything): lower-case letters, digits, '-' and a
// non-leading '.' stay; every other byte, '_' and upper-case letters included, becomes "_XX"
// (upper-case hex). Since '_' always starts an escape, two seats never share a file name
// ("grp/x" -> "grp_2Fx", "grp_x" -> "grp_5Fx"). Overlong names keep a prefix and a hash.
std::string file_stem(const std::string& seat) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < seat.size(); ++i) {
    auto c = static_cast<unsigned char>(seat[i]);
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c == '.' && i > 0);
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '_';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (out.empty()) out = "_";            // no seat id is empty, but never produce a bare extension
  constexpr std::size_t kMaxStem = 200;  // file names are limited to 255 bytes
  if (out.size() > kMaxStem)
    out = out.substr(0, kMaxStem - 17) + "~" + sha256_hex(seat).substr(0, 16);
  return out;
}

struct SeatFile {
  std::string name;
  std::unique_ptr<std::ofstream> out;
  std::uint64_t events = 0, first_seq = 0, last_seq = 0;
  std::int64_t first_ms = 0, last_ms = 0;
};

}  // namespace

int cmd_export(const ArgList& argv, std::ostream& out) {
  auto opts = store_option_names();
  opts.insert({"since", "until", "format", "out"});
  ArgParser a(argv, opts, {});
  std::string spec = store_spec(a), format = a.require("format"), dir = a.require("out");
  if (format != "csv" && format != "ndjson")
    throw UsageError("--format: expected csv or ndjson, got \"" + format + "\"");
  auto since = a.time("since"), until = a.time("until");
  if (!since || !until) throw UsageError("--since and --until are required");
  if (*until <= *since) throw UsageError("--until must be after --since");
  auto store = open_store(spec, false);
  fs::create_directories(dir);
  if (fs::exists(fs::path(dir) / "manifest.json"))
    throw std::runtime_error(dir +
                             " already holds an export (manifest.json); choose an empty directory");

  std::map<std::string, SeatFile> files;  // by seat id
  std::set<std::string> names;
  EventFilter f;
  f.since_ms = since;
  f.until_ms = until;
  std::uint64_t total = 0;
  store->query(f, [&](const StoredEvent& e) {
    auto [it, fresh] = files.try_emplace(e.seat_id);
    SeatFile& sf = it->second;
    if (fresh) {
      sf.name = file_stem(e.seat_id) + "." + format;
      // Distinct seats have distinct names; never let one file silently receive two seats.
      if (!names.insert(sf.name).second)
        throw std::runtime_error("two seats map to the export file name " + sf.name);
      sf.out = std::make_unique<std::ofstream>(fs::path(dir) / sf.name,
                                               std::ios::binary | std::ios::trunc);
      if (!*sf.out) throw std::runtime_error("cannot write " + (fs::path(dir) / sf.name).string());
      if (format == "csv") write_csv_header(*sf.out);
      sf.first_seq = e.seq;
      sf.first_ms = e.time_ms;
    }
    if (format == "csv")
      write_csv_row(*sf.out, e);
    else
      *sf.out << e.line << '\n';
    ++sf.events;
    ++total;
    sf.first_seq = std::min(sf.first_seq, e.seq);
    sf.last_seq = std::max(sf.last_seq, e.seq);
    sf.last_ms = e.time_ms;
    return true;
  });

  nlohmann::json list = nlohmann::json::array();
  for (auto& [seat, sf] : files) {
    sf.out->close();
    if (!*sf.out) throw std::runtime_error("writing " + sf.name + " failed");
    fs::path p = fs::path(dir) / sf.name;
    list.push_back({{"file", sf.name},
                    {"seat", seat},
                    {"sha256", file_sha256(p)},
                    {"bytes", fs::file_size(p)},
                    {"events", sf.events},
                    {"first_seq", sf.first_seq},
                    {"last_seq", sf.last_seq},
                    {"first_time", format_time(sf.first_ms)},
                    {"last_time", format_time(sf.last_ms)}});
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  nlohmann::json manifest = {
      {"schema", "seatlock.export/1"},
      {"exported_at", format_time(now)},
      {"exported_by", {{"host", host}, {"uid", static_cast<std::int64_t>(getuid())}}},
      {"tool", std::string("seatlock-collector ") + kVersion},
      {"database", describe_store(spec)},
      {"format", format},
      {"range",
       {{"since", format_time(*since)}, {"until", format_time(*until)}, {"until_exclusive", true}}},
      {"events", total},
      {"files", list}};
  std::string text = manifest.dump(2) + "\n";
  std::ofstream(fs::path(dir) / "manifest.json", std::ios::binary) << text;
  out << "exported " << total << " events from " << files.size() << " seats to " << dir << "\n";
  out << "manifest.json sha256 " << sha256_hex(text) << "\n";
  return 0;
}

}  // namespace seatlock::collector
