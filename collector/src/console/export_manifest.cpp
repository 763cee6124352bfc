#include "console/export_manifest.hpp"

#include <stdexcept>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "ingest.hpp"
#include "output.hpp"
#include "signing.hpp"

namespace seatlock::collector::console {

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "csv") return ExportFormat::csv;
  if (name == "ndjson") return ExportFormat::ndjson;
  return std::nullopt;
}

const char* format_name(ExportFormat f) {
  return f == ExportFormat::csv ? "csv" : "ndjson";
}

std::string csv_header() {
  return "time,seat,seq,kind,severity,user,outcome,id,chain_hash,line\r\n";
}

std::string line_outcome(const std::string& line) {
  nlohmann::json j;
  if (parse_json_bounded(line, j, kEventJsonLimits) || !j.is_object()) return "";
  auto it = j.find("outcome");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string export_row(ExportFormat f, const StoredEvent& e) {
  if (f == ExportFormat::ndjson) return e.line + "\n";
  std::string r;
  r.reserve(e.line.size() + 256);
  r += format_time(e.time_ms);
  r += ',' + csv_escape(e.seat_id);
  r += ',' + std::to_string(e.seq);
  for (const std::string& s :
       {e.kind, e.severity, e.user_name, line_outcome(e.line), e.id, e.chain_hash, e.line})
    r += ',' + csv_escape(s);
  r += "\r\n";
  return r;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256: OpenSSL digest unavailable");
}

void Sha256::update(std::string_view bytes) {
  EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
}

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);  // ready for the next block
  return hex_encode(std::string_view(reinterpret_cast<char*>(md), len));
}

void ExportDigest::header(std::string_view bytes) {
  file_.update(bytes);
  bytes_ += bytes.size();
}

void ExportDigest::row(std::string_view bytes) {
  file_.update(bytes);
  block_.update(bytes);
  bytes_ += bytes.size();
  if (++rows_ % kBlockRows == 0) blocks_.push_back(block_.hex());
}

void ExportDigest::finish() {
  if (finished_) return;
  finished_ = true;
  if (rows_ % kBlockRows != 0) blocks_.push_back(block_.hex());
}

std::string ExportDigest::sha256() {
  finish();
  if (file_hex_.empty()) file_hex_ = file_.hex();
  return file_hex_;
}

const std::vector<std::string>& ExportDigest::blocks() {
  finish();
  return blocks_;
}

nlohmann::json row_ref(const StoredEvent& e) {
  return {{"seat", e.seat_id}, {"seq", e.seq}, {"time_ms", e.time_ms}};
}

std::string manifest_message(const nlohmann::json& manifest) {
  nlohmann::json body = manifest;
  body.erase("signature");
  return std::string(kManifestSchema) + "\n" + canonical_bytes(body);
}

void sign_manifest(nlohmann::json& manifest, const std::string& raw_private) {
  manifest["signature"] = base64_encode(ed25519_sign(raw_private, manifest_message(manifest)));
}

bool manifest_signature_ok(const nlohmann::json& manifest, const std::string& raw_public) {
  auto it = manifest.find("signature");
  std::string sig;
  if (it == manifest.end() || !it->is_string() || !base64_decode(it->get<std::string>(), sig))
    return false;
  return ed25519_verify(raw_public, manifest_message(manifest), sig);
}

bool CsvReader::next(std::vector<std::string>& fields, std::string& raw, std::string& error) {
  fields.clear();
  raw.clear();
  error.clear();
  if (in_.peek() == std::char_traits<char>::eof()) return false;
  std::string field;
  bool quoted = false, in_quotes = false, after_quote = false;
  int c;
  while ((c = in_.get()) != std::char_traits<char>::eof()) {
    char ch = static_cast<char>(c);
    raw += ch;
    if (in_quotes) {
      if (ch == '"') {
        if (in_.peek() == '"') {
          raw += static_cast<char>(in_.get());
          field += '"';
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        field += ch;
      }
      continue;
    }
    if (ch == ',') {
      fields.push_back(std::move(field));
      field.clear();
      quoted = after_quote = false;
    } else if (ch == '\r' && in_.peek() == '\n') {
      raw += static_cast<char>(in_.get());
      fields.push_back(std::move(field));
      return true;
    } else if (ch == '\n') {
      error = "record ends with LF instead of CRLF";
      fields.push_back(std::move(field));
      return true;
    } else if (ch == '"' && field.empty() && !quoted) {
      quoted = in_quotes = true;
    } else if (after_quote || ch == '"') {
      if (error.empty()) error = "a quote inside an unquoted field or after a closing quote";
      field += ch;
    } else {
      field += ch;
    }
  }
  if (in_quotes)
    error = "unterminated quoted field at the end of the file";
  else if (error.empty())
    error = "the last record does not end with CRLF";
  fields.push_back(std::move(field));
  return true;
}

}  // namespace seatlock::collector::console
