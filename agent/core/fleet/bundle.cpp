#include "core/fleet/bundle.hpp"

#include "core/event/event.hpp"
#include "core/policy/formats.hpp"
#include "core/util/digest.hpp"

namespace seatlock::fleet {

using nlohmann::json;

json bundle_json(const FleetBundle& b) {
  json files = json::array();
  for (const auto& f : b.files) files.push_back({{"name", f.name}, {"text", f.text}});
  return {{"format", kBundleFormat},
          {"seat", b.seat},
          {"version", b.version},
          {"issued", format_rfc3339_ms(b.issued)},
          {"expires", format_rfc3339_ms(b.expires)},
          {"files", files}};
}

std::string bundle_signed_bytes(const json& bundle) {
  return std::string(kBundleFormat) + "\n" + canonical_bytes(bundle);
}

std::string bundle_document(const FleetBundle& b, const std::string& raw_signature,
                            const std::string& raw_public_key) {
  json doc = {{"bundle", bundle_json(b)},
              {"signature", base64_encode(raw_signature)},
              {"key", base64_encode(raw_public_key)}};
  return doc.dump();
}

std::optional<FleetBundle> bundle_from_json(const json& j, std::string& why) {
  auto fail = [&](const std::string& w) {
    why = "/bundle" + w;
    return std::nullopt;
  };
  if (!j.is_object()) return fail(": expected an object");
  for (const auto& [k, v] : j.items())
    if (k != "format" && k != "seat" && k != "version" && k != "issued" && k != "expires" &&
        k != "files")
      return fail("/" + k + ": unknown key");
  if (j.value("format", "") != kBundleFormat)
    return fail(std::string("/format: expected \"") + kBundleFormat + "\"");
  FleetBundle b;
  if (!j.contains("seat") || !j["seat"].is_string() ||
      !policy_format::check_seat_id(j["seat"].get<std::string>()).empty())
    return fail("/seat: expected a seat id");
  b.seat = j["seat"].get<std::string>();
  if (!j.contains("version") || !j["version"].is_number_unsigned() || j["version"] == 0)
    return fail("/version: expected a positive integer");
  b.version = j["version"].get<std::uint64_t>();
  for (const char* k : {"issued", "expires"}) {
    auto t =
        j.contains(k) && j[k].is_string() ? parse_rfc3339(j[k].get<std::string>()) : std::nullopt;
    if (!t) return fail(std::string("/") + k + ": expected an RFC 3339 time");
    (std::string(k) == "issued" ? b.issued : b.expires) = *t;
  }
  if (!j.contains("files") || !j["files"].is_array()) return fail("/files: expected an array");
  for (std::size_t i = 0; i < j["files"].size(); ++i) {
    const json& f = j["files"][i];
    if (!f.is_object() || f.size() != 2 || !f.contains("name") || !f["name"].is_string() ||
        !f.contains("text") || !f["text"].is_string())
      return fail("/files/" + std::to_string(i) +
                  ": expected {\"name\": string, \"text\": string}");
    b.files.push_back({f["name"].get<std::string>(), f["text"].get<std::string>()});
  }
  return b;
}

}  // namespace seatlock::fleet
