#include "core/policy/build.hpp"

#include <cctype>

#include "core/event/event.hpp"
#include "core/policy/cidr.hpp"
#include "core/policy/domain_name.hpp"
#include "core/policy/formats.hpp"
#include "core/util/digest.hpp"

namespace seatlock::policy_build {

using nlohmann::json;

namespace {

std::string format_size(std::uint64_t n) {
  if (n >= (1ULL << 30) && n % (1ULL << 30) == 0) return std::to_string(n >> 30) + "GiB";
  if (n >= (1ULL << 20) && n % (1ULL << 20) == 0) return std::to_string(n >> 20) + "MiB";
  if (n >= (1ULL << 10) && n % (1ULL << 10) == 0) return std::to_string(n >> 10) + "KiB";
  return std::to_string(n) + "B";
}

void overlay(json& dst, const json& src) {
  for (const auto& [k, v] : src.items()) {
    if (v.is_object() && dst.contains(k) && dst[k].is_object())
      overlay(dst[k], v);
    else
      dst[k] = v;
  }
}

Mode mode_of(const json& v) {
  return v.get<std::string>() == "audit" ? Mode::Audit : Mode::Enforce;
}

std::int64_t duration_of(const json& v) {
  return parse_duration_ms(v.get<std::string>()).value_or(0);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> strings(const json& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.get<std::string>());
  return out;
}

EgressRule egress_rule(const json& e, std::vector<std::string>* names = nullptr) {
  EgressRule r;
  json to = e["to"].is_string() ? json::array({e["to"]}) : e["to"];
  for (const auto& c : to) {
    const std::string text = c.get<std::string>();
    if (names && looks_like_domain(text))
      names->push_back(*parse_domain_pattern(text).name);
    else
      r.to.push_back(*parse_cidr(text).cidr);
  }
  if (e.contains("ports"))
    for (const auto& p : e["ports"]) {
      PortRange range;
      policy_format::check_port(p, &range);
      r.ports.push_back(range);
    }
  r.proto = e.value("proto", "any");
  r.comment = e.value("comment", "");
  r.essential = e.value("essential", false);
  return r;
}

// An allow entry: its CIDRs go to `allow`, its domain names to `domains` (same ports/proto).
void add_allow_entry(const json& e, std::vector<EgressRule>& allow,
                     std::vector<DomainRule>& domains) {
  std::vector<std::string> names;
  EgressRule r = egress_rule(e, &names);
  if (!names.empty())
    domains.push_back({std::move(names), r.ports, r.proto, r.comment, r.essential});
  if (!r.to.empty()) allow.push_back(std::move(r));
}

InboundRule inbound_rule(const json& e) {
  EgressRule r = egress_rule({{"to", e["from"]},
                              {"ports", e.value("ports", json::array())},
                              {"proto", e.value("proto", "any")},
                              {"comment", e.value("comment", "")}});
  return {std::move(r.to), std::move(r.ports), std::move(r.proto), std::move(r.comment)};
}

std::string source_of(const policy_merge::Merged& merged,
                      const std::vector<policy_merge::FileDoc>& files,
                      const std::string& merged_ptr) {
  auto it = merged.origins.find(merged_ptr);
  return it == merged.origins.end() ? std::string() : files[it->second.file].name;
}

std::string canonical_ip(const json& v) {
  return parse_ip(v.get<std::string>())->text();
}

}  // namespace

json default_document() {
  const Policy d;
  return {
      {"usb",
       {{"mode", to_string(d.usb.mode)},
        {"allow_classes", d.usb.allow_classes},
        {"exceptions", json::array()}}},
      {"network",
       {{"mode", to_string(d.network.mode)},
        {"allow", json::array()},
        {"inbound", json::array()},
        {"dns", json::array()},
        {"ntp", json::array()},
        {"exceptions", json::array()},
        {"addresses", json::object()},
        {"denied_log",
         {{"window", format_duration(d.network.denied_window_ms)},
          {"rate", d.network.denied_log_rate}}},
        {"dns_guard",
         {{"ttl_floor", format_duration(d.network.dns_guard.ttl_floor_ms)},
          {"grace", format_duration(d.network.dns_guard.grace_ms)},
          {"max_addresses_per_name", d.network.dns_guard.max_addresses_per_name}}}}},
      {"firmware",
       {{"mode", to_string(d.firmware.mode)},
        {"interval", format_duration(d.firmware.interval_ms)},
        {"resend", format_duration(d.firmware.resend_ms)},
        {"require", d.firmware.require},
        {"trusted_keys", json::array()}}},
      {"report",
       {{"heartbeat", format_duration(d.report.heartbeat_ms)},
        {"spool_max", format_size(d.report.spool_max_bytes)},
        {"batch_max_events", d.report.batch_max_events}}},
  };
}

json effective_document(const json& merged) {
  json doc = default_document();
  overlay(doc, merged);
  return doc;
}

Policy build_policy(const json& eff, const policy_merge::Merged& merged,
                    const std::vector<policy_merge::FileDoc>& files) {
  Policy p;
  const json& usb = eff["usb"];
  p.usb.mode = mode_of(usb["mode"]);
  p.usb.allow_classes = strings(usb["allow_classes"]);
  for (std::size_t i = 0; i < usb["exceptions"].size(); ++i) {
    const json& e = usb["exceptions"][i];
    UsbException x;
    x.vid = lower(e["vid"].get<std::string>());
    x.pid = lower(e["pid"].get<std::string>());
    if (e.contains("serial")) x.serial = e["serial"].get<std::string>();
    if (e.contains("port")) x.port = e["port"].get<std::string>();
    x.until = parse_rfc3339(e["until"].get<std::string>()).value_or(0);
    x.ticket = e["ticket"].get<std::string>();
    x.read_only = e.value("read_only", false);
    x.comment = e.value("comment", "");
    x.source = source_of(merged, files, "/usb/exceptions/" + std::to_string(i));
    p.usb.exceptions.push_back(std::move(x));
  }

  const json& net = eff["network"];
  p.network.mode = mode_of(net["mode"]);
  for (const auto& e : net["allow"]) add_allow_entry(e, p.network.allow, p.network.allow_domains);
  if (net.contains("closed")) {
    const json& c = net["closed"];
    NetClosure closure;
    closure.ticket = c["ticket"].get<std::string>();
    closure.by = c.value("by", "");
    if (c.contains("since")) closure.since = parse_rfc3339(c["since"].get<std::string>());
    if (c.contains("until")) closure.until = parse_rfc3339(c["until"].get<std::string>());
    closure.source = source_of(merged, files, "/network/closed");
    p.network.closed = std::move(closure);
  }
  for (const auto& e : net["inbound"]) p.network.inbound.push_back(inbound_rule(e));
  for (const auto& ip : net["dns"]) p.network.dns.push_back(canonical_ip(ip));
  for (const auto& ip : net["ntp"]) p.network.ntp.push_back(canonical_ip(ip));
  for (std::size_t i = 0; i < net["exceptions"].size(); ++i) {
    const json& e = net["exceptions"][i];
    NetException x;
    if (e.contains("users")) x.users = strings(e["users"]);
    if (e.contains("groups")) x.groups = strings(e["groups"]);
    for (const auto& a : e["allow"]) add_allow_entry(a, x.allow, x.allow_domains);
    x.until = parse_rfc3339(e["until"].get<std::string>()).value_or(0);
    x.ticket = e["ticket"].get<std::string>();
    x.comment = e.value("comment", "");
    x.source = source_of(merged, files, "/network/exceptions/" + std::to_string(i));
    p.network.exceptions.push_back(std::move(x));
  }
  for (const auto& [name, addr] : net["addresses"].items())
    p.network.addresses.push_back({name, *parse_interface_address(addr.get<std::string>()).cidr});
  p.network.denied_window_ms = duration_of(net["denied_log"]["window"]);
  p.network.denied_log_rate = net["denied_log"]["rate"].get<std::uint32_t>();
  const json& guard = net["dns_guard"];
  p.network.dns_guard.ttl_floor_ms = duration_of(guard["ttl_floor"]);
  p.network.dns_guard.grace_ms = duration_of(guard["grace"]);
  p.network.dns_guard.max_addresses_per_name = guard["max_addresses_per_name"].get<std::uint32_t>();

  const json& fw = eff["firmware"];
  p.firmware.mode = mode_of(fw["mode"]);
  p.firmware.interval_ms = duration_of(fw["interval"]);
  p.firmware.resend_ms = duration_of(fw["resend"]);
  p.firmware.require = strings(fw["require"]);
  p.firmware.baseline = fw.value("baseline", "");
  p.firmware.trusted_keys = strings(fw["trusted_keys"]);
  if (fw.contains("attestation")) {
    const json& a = fw["attestation"];
    p.firmware.attestation.enabled = true;
    p.firmware.attestation.tcti = a.value("tpm", p.firmware.attestation.tcti);
    if (a.contains("interval")) p.firmware.attestation.interval_ms = duration_of(a["interval"]);
  }

  const json& r = eff["report"];
  p.report.seat_id = r.value("seat_id", "");
  p.report.collector = r.value("collector", "");
  p.report.ca_file = r.value("ca", "");
  p.report.cert_file = r.value("cert", "");
  p.report.key_file = r.value("key", "");
  p.report.token_file = r.value("token_file", "");
  p.report.heartbeat_ms = duration_of(r["heartbeat"]);
  policy_format::check_byte_size(r["spool_max"], &p.report.spool_max_bytes);
  p.report.batch_max_events = r["batch_max_events"].get<std::uint32_t>();
  // Not in default_document(): absent from the effective document unless a file pins keys.
  if (r.contains("fleet_keys")) p.report.fleet_keys = strings(r["fleet_keys"]);

  p.effective = eff;
  p.sha256 = sha256_hex(canonical_bytes(eff));
  for (const auto& f : files) p.sources.push_back(f.name);
  return p;
}

}  // namespace seatlock::policy_build
