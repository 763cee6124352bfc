#pragma once
// The console export's file format and its signed manifest (issue 15; docs/console.md, "Export").
// An export is ONE file: NDJSON (the stored lines, one per line) or CSV (header + one record per
// event, the stored line in the last column). The manifest names the filter, the row count, the
// file's SHA-256 and one SHA-256 per block of 1,000 rows (so a verifier can say where a file
// was changed even without the store), and is signed with the collector's Ed25519 key (the key
// that signs the collector's chain heads): "seatlock.export-manifest/1\n" + canonical JSON of
// the manifest without its "signature" member.
#include <openssl/evp.h>

#include <cstdint>
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store.hpp"

namespace seatlock::collector::console {

inline constexpr const char* kManifestSchema = "seatlock.export-manifest/1";
inline constexpr std::uint64_t kBlockRows = 1000;

enum class ExportFormat { csv, ndjson };
std::optional<ExportFormat> parse_export_format(std::string_view name);
const char* format_name(ExportFormat f);  // "csv" | "ndjson"

// CSV: "time,seat,seq,kind,severity,user,outcome,id,chain_hash,line" + CRLF.
inline constexpr std::size_t kCsvColumns = 10;
std::string csv_header();
// The bytes of one row (CSV record with CRLF, or the line + '\n').
std::string export_row(ExportFormat f, const StoredEvent& e);
// The event's top-level "outcome" ("" when none or the line is not JSON).
std::string line_outcome(const std::string& line);

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  std::string hex();  // finishes; call once

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// Hashes of an export as it is written (or read back): the whole file and each row block.
class ExportDigest {
 public:
  void header(std::string_view bytes);  // CSV header: in the file's hash, in no block
  void row(std::string_view bytes);
  std::uint64_t rows() const { return rows_; }
  std::uint64_t bytes() const { return bytes_; }
  // Finishes: the file's sha256 hex and the blocks' (the last one may be short).
  std::string sha256();
  const std::vector<std::string>& blocks();

 private:
  Sha256 file_, block_;
  std::uint64_t rows_ = 0, bytes_ = 0;
  std::vector<std::string> blocks_;
  std::string file_hex_;
  bool finished_ = false;
  void finish();
};

// {"seat","seq","time_ms"} of a row (the manifest's "first"/"last").
nlohmann::json row_ref(const StoredEvent& e);

// The bytes the signature covers.
std::string manifest_message(const nlohmann::json& manifest);
// Sets manifest["signature"] (base64).
void sign_manifest(nlohmann::json& manifest, const std::string& raw_private);
bool manifest_signature_ok(const nlohmann::json& manifest, const std::string& raw_public);

// RFC 4180 records, with the byte offsets each one spans in the file.
class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}
  // False at the end of the input. A malformed record (quote in an unquoted field, unterminated
  // quote) sets `error`.
  bool next(std::vector<std::string>& fields, std::string& raw, std::string& error);

 private:
  std::istream& in_;
};

}  // namespace seatlock::collector::console
