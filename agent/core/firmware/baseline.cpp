#include "core/firmware/baseline.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

#include "core/event/event.hpp"
#include "core/firmware/checks.hpp"
#include "core/util/digest.hpp"

namespace seatlock::firmware {

using nlohmann::json;

std::pair<std::string, bool> parse_attestation(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos)
    throw std::invalid_argument("attestation '" + std::string(text) +
                                "': expected CHECK=yes or CHECK=no");
  std::string check(text.substr(0, eq)), answer(text.substr(eq + 1));
  if (!is_known_check(check)) {
    std::string names;
    for (auto n : kCheckNames) names += (names.empty() ? "" : ", ") + std::string(n);
    throw std::invalid_argument("attestation '" + std::string(text) + "': unknown check '" + check +
                                "' (known: " + names + ")");
  }
  if (answer == "yes") return {check, true};
  if (answer == "no") return {check, false};
  throw std::invalid_argument("attestation '" + std::string(text) +
                              "': answer must be yes or no, got '" + answer + "'");
}

json make_baseline(const Snapshot& s, const Attestations& attested, UnixMillis created,
                   const std::string& note) {
  json att = json::object();
  for (const auto& [check, yes] : attested) att[check] = yes ? "yes" : "no";
  json b = {{"format", kBaselineFormat},
            {"created", format_rfc3339_ms(created)},
            {"dmi", identity_json(s)},
            {"settings", settings_json(s)},
            {"attested", att}};
  if (!note.empty()) b["note"] = note;
  return b;
}

std::string baseline_signed_bytes(const json& baseline) {
  return canonical_bytes(baseline);
}

std::string baseline_document(const json& baseline, std::string_view signature,
                              std::string_view public_key_raw) {
  json doc = {{"baseline", baseline},
              {"signature", base64_encode(signature)},
              {"key", base64_encode(public_key_raw)}};
  return doc.dump(2) + "\n";
}

bool ed25519_verify(std::string_view public_key_raw, std::string_view message,
                    std::string_view signature) {
  if (public_key_raw.size() != 32 || signature.size() != 64) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(public_key_raw.data()),
                                  32),
      EVP_PKEY_free);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

namespace {

// Shape of the "baseline" object; returns the first problem or "".
std::string shape_error(const json& b) {
  if (!b.is_object()) return "/baseline: expected an object";
  if (b.value("format", "") != kBaselineFormat)
    return std::string("/baseline/format: expected \"") + kBaselineFormat + "\"";
  for (const char* obj : {"dmi", "settings", "attested"}) {
    auto it = b.find(obj);
    if (it == b.end() || !it->is_object())
      return std::string("/baseline/") + obj + ": expected an object";
    for (const auto& [k, v] : it->items())
      if (!v.is_string()) return std::string("/baseline/") + obj + "/" + k + ": expected a string";
  }
  for (const auto& [k, v] : b["attested"].items()) {
    if (!is_known_check(k)) return "/baseline/attested/" + k + ": unknown check";
    if (v != "yes" && v != "no") return "/baseline/attested/" + k + ": expected \"yes\" or \"no\"";
  }
  return "";
}

}  // namespace

BaselineCheck verify_baseline(std::string_view text, const std::vector<std::string>& trusted_keys) {
  BaselineCheck r;
  r.status = "invalid";
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    r.detail = "not a JSON object";
    return r;
  }
  auto str = [&](const char* k) -> const json* {
    auto it = doc.find(k);
    return it != doc.end() && it->is_string() ? &*it : nullptr;
  };
  const json* sig_b64 = str("signature");
  const json* key_b64 = str("key");
  if (!doc.contains("baseline") || !sig_b64 || !key_b64) {
    r.detail = "expected \"baseline\", \"signature\" and \"key\"";
    return r;
  }
  r.key = key_b64->get<std::string>();
  std::string key, sig;
  if (!base64_decode(r.key, key) || key.size() != 32) {
    r.detail = "/key: expected base64 of a 32-byte Ed25519 public key";
    return r;
  }
  if (!base64_decode(sig_b64->get<std::string>(), sig) || sig.size() != 64) {
    r.detail = "/signature: expected base64 of a 64-byte Ed25519 signature";
    return r;
  }
  if (!ed25519_verify(key, baseline_signed_bytes(doc["baseline"]), sig)) {
    r.detail = "signature does not match the baseline (altered after signing)";
    return r;
  }
  bool trusted = false;
  for (const auto& t : trusted_keys) {
    std::string raw;
    if (base64_decode(t, raw) && raw == key) trusted = true;
  }
  if (!trusted) {
    r.status = "untrusted";
    r.detail = "signed by key " + r.key + ", which is not in firmware.trusted_keys";
    return r;
  }
  if (std::string e = shape_error(doc["baseline"]); !e.empty()) {
    r.detail = e;
    return r;
  }
  r.status = "ok";
  r.detail = "signed by a trusted key, created " + doc["baseline"].value("created", "?");
  r.baseline = doc["baseline"];
  return r;
}

}  // namespace seatlock::firmware
