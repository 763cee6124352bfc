#include "core/attest/wire.hpp"

#include "core/util/digest.hpp"

namespace seatlock::attest {

using nlohmann::json;

json enroll_request(const EnrollmentMaterial& m) {
  return {{"ek_public", base64_encode(m.ek_public)},
          {"ek_cert", m.ek_cert ? json(base64_encode(*m.ek_cert)) : json(nullptr)},
          {"ak_public", base64_encode(m.ak_public)},
          {"ak_name", base64_encode(m.ak_name)}};
}

namespace {

bool string_field(const json& j, const char* key, std::string& out, std::string& error) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    error = std::string("/") + key + ": expected a non-empty string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool base64_field(const json& j, const char* key, std::string& out, std::string& error) {
  std::string text;
  if (!string_field(j, key, text, error)) return false;
  if (!base64_decode(text, out) || out.empty()) {
    error = std::string("/") + key + ": expected base64";
    return false;
  }
  return true;
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

}  // namespace

std::optional<EnrollmentAnswer> parse_enroll_answer(const json& j, std::string& error) {
  if (!j.is_object()) {
    error = ": expected an object";
    return std::nullopt;
  }
  EnrollmentAnswer a;
  if (!string_field(j, "enrollment", a.enrollment, error) ||
      !base64_field(j, "credential_blob", a.credential_blob, error) ||
      !base64_field(j, "encrypted_secret", a.encrypted_secret, error) ||
      !string_field(j, "ek_cert_status", a.ek_cert_status, error))
    return std::nullopt;
  return a;
}

json activate_request(const std::string& enrollment, const std::string& secret) {
  return {{"enrollment", enrollment}, {"secret", base64_encode(secret)}};
}

std::optional<std::string> parse_challenge(const json& j, std::string& error) {
  std::string nonce;
  if (!j.is_object()) {
    error = ": expected an object";
    return std::nullopt;
  }
  if (!string_field(j, "nonce", nonce, error)) return std::nullopt;
  if (!is_hex64(nonce)) {
    error = "/nonce: expected 64 hex digits";
    return std::nullopt;
  }
  return nonce;
}

json quote_request(const QuoteEvidence& q) {
  json pcrs = json::object();
  for (const auto& [index, value] : q.pcrs_sha256) pcrs[std::to_string(index)] = hex_encode(value);
  return {{"nonce", q.nonce_hex},
          {"snapshot_digest", q.snapshot_digest_hex},
          {"snapshot", q.snapshot},
          {"quote", base64_encode(q.quote)},
          {"signature", base64_encode(q.signature)},
          {"pcrs", {{"sha256", pcrs}}},
          {"event_log", q.event_log ? json(base64_encode(*q.event_log)) : json(nullptr)},
          {"quote_ms", q.quote_ms}};
}

}  // namespace seatlock::attest
