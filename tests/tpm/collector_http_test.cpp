// The attestation endpoints of a real `seatlock-collector serve` (TLS, seat client certificate),
// a seat played by tpm2-tools on a swtpm with an EK certificate, and the `attest` CLI.
#include <curl/curl.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "attest/ek_cert.hpp"
#include "attest/quote.hpp"
#include "core/event/event.hpp"
#include "harness.hpp"
#include "tpm/collector_tpm_support.hpp"

using namespace seatlock;
using namespace seatlock::test;
using namespace seatlock::test::col;
using namespace seatlock::testing;
using nlohmann::json;
namespace at = seatlock::collector::attest;

namespace {

size_t collect(char* p, size_t n, size_t m, void* out) {
  static_cast<std::string*>(out)->append(p, n * m);
  return n * m;
}

// GET (body empty) or POST JSON with the seat's client certificate.
HttpResult call(const std::string& url, const Pki& pki, const Pki::Pair& seat,
                const std::string& body, bool post) {
  HttpResult r;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, pki.ca.c_str());
  curl_easy_setopt(c, CURLOPT_SSLCERT, seat.cert.c_str());
  curl_easy_setopt(c, CURLOPT_SSLKEY, seat.key.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_slist* hdrs = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  if (post) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
  return r;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += char(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

}  // namespace

TEST_CASE(
    "collector serve: enroll with a vendor-signed EK, activate, challenge, quote, attest show",
    "[tpm][collector]") {
  SwtpmOptions with_cert;
  with_cert.with_ek_cert = true;
  Swtpm tpm(with_cert);
  ToolSeat seat(tpm);
  tool_ok(&tpm, {"tpm2_nvread", "0x01c00002", "-C", "o", "-o", tpm.dir() + "/ekcert.der"});
  std::string ek_cert = slurp(tpm.dir() + "/ekcert.der");
  REQUIRE_FALSE(ek_cert.empty());

  TempDir dir;
  Pki pki(dir);
  // The vendor CA bundle: swtpm's local CA (root and the intermediate that signs EK certs).
  spit(dir / "ek-vendors.pem", slurp(tpm.ca_dir() + "/issuercert.pem") +
                                   slurp(tpm.ca_dir() + "/swtpm-localca-rootca-cert.pem"));
  CollectorProcess col(dir / "c.db", pki, {"--ek-ca", dir / "ek-vendors.pem"});
  auto me = pki.seat("seat-1");

  json req = seat.enroll_request();
  req["ek_cert"] = base64_encode(ek_cert);
  auto r = call(col.url("/v1/attest/enroll"), pki, me, req.dump(), true);
  INFO(r.body);
  REQUIRE(r.status == 200);
  json enr = json::parse(r.body);
  CHECK(enr["ek_cert_status"] == "verified");

  std::string blob, sec;
  base64_decode(enr["credential_blob"].get<std::string>(), blob);
  base64_decode(enr["encrypted_secret"].get<std::string>(), sec);
  json act = {{"enrollment", enr["enrollment"]},
              {"secret", base64_encode(seat.activate(blob, sec))}};
  // Another seat cannot use this enrollment (and spends it): the seat id is the authenticated one.
  auto other = pki.seat("seat-2");
  CHECK(call(col.url("/v1/attest/activate"), pki, other, act.dump(), true).status == 403);
  r = call(col.url("/v1/attest/enroll"), pki, me, req.dump(), true);
  enr = json::parse(r.body);
  base64_decode(enr["credential_blob"].get<std::string>(), blob);
  base64_decode(enr["encrypted_secret"].get<std::string>(), sec);
  act = {{"enrollment", enr["enrollment"]}, {"secret", base64_encode(seat.activate(blob, sec))}};
  r = call(col.url("/v1/attest/activate"), pki, me, act.dump(), true);
  INFO(r.body);
  REQUIRE(r.status == 200);

  // Pinned: an enrollment from another TPM under this seat's identity is forbidden.
  {
    Swtpm other_tpm;
    ToolSeat impostor(other_tpm);
    auto refused =
        call(col.url("/v1/attest/enroll"), pki, me, impostor.enroll_request().dump(), true);
    CHECK(refused.status == 403);
    CHECK(refused.body.find("pinned to another TPM's EK") != std::string::npos);
  }

  auto log = EventLogBuilder::typical();
  log.extend_into(tpm);
  auto attest_once = [&] {
    auto ch = call(col.url("/v1/attest/challenge"), pki, me, "", false);
    REQUIRE(ch.status == 200);
    json c = json::parse(ch.body);
    CHECK(c["expires"].get<std::string>().back() == 'Z');
    json snap = {{"dmi", {{"sys_vendor", "QEMU"}}}};
    std::string digest = unhex(sha256_hex(canonical_bytes(snap)));
    auto q = seat.quote(at::qualifying_data(unhex(c["nonce"]), digest));
    json body = {{"nonce", c["nonce"]},
                 {"snapshot_digest", hex_encode(digest)},
                 {"snapshot", snap},
                 {"quote", base64_encode(q.attest)},
                 {"signature", base64_encode(q.signature)},
                 {"pcrs", q.pcrs},
                 {"event_log", base64_encode(log.bytes())},
                 {"quote_ms", 4}};
    auto res = call(col.url("/v1/attest/quote"), pki, me, body.dump(), true);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return json::parse(res.body);
  };
  CHECK(attest_once()["result"] == "drift");  // no baseline yet
  auto cli = run_cli(
      {"attest", "baseline", "--db", dir / "c.db", "--seat", "seat-1", "--ticket", "IMG-7"});
  INFO(cli.out);
  REQUIRE(cli.exit_code == 0);
  CHECK(attest_once()["result"] == "verified");

  cli = run_cli({"attest", "show", "--db", dir / "c.db", "--seat", "seat-1"});
  INFO(cli.out);
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find("EK certificate verified") != std::string::npos);
  CHECK(cli.out.find("firmware.attested  verified") != std::string::npos);
  CHECK(cli.out.find("firmware.attested  drift") != std::string::npos);
  CHECK(cli.out.find("reported by the seat (not proven): BIOS admin password") !=
        std::string::npos);

  // The auditor's view: the verdicts are collector events in the event store, listed with the
  // seat's events, and the collector's chain verifies with the collector key (which `serve`
  // created beside the database; the `attest baseline` above appended to the same chain).
  cli = run_cli({"query", "--db", dir / "c.db", "--seat", "seat-1", "--json"});
  INFO(cli.out);
  REQUIRE(cli.exit_code == 0);
  std::vector<json> got;
  std::istringstream lines(cli.out);
  for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
  REQUIRE(got.size() == 3);
  CHECK(got[0]["kind"] == "firmware.attested");
  CHECK(got[0]["details"]["result"] == "drift");
  CHECK(got[1]["kind"] == "attest.baseline_set");
  CHECK(got[1]["details"]["ticket"] == "IMG-7");
  CHECK(got[2]["kind"] == "firmware.attested");
  CHECK(got[2]["severity"] == "info");
  CHECK(got[2]["details"]["result"] == "verified");
  CHECK(got[2]["details"]["seats"] == json::array({"seat-1"}));
  CHECK(got[2]["details"]["proven_by_tpm"].is_object());
  CHECK(got[2]["details"]["reported_by_seat"]["note"].get<std::string>().find(
            "BIOS admin password") != std::string::npos);
  for (const auto& e : got) CHECK(e["seat"]["id"].get<std::string>().rfind("collector:", 0) == 0);
  cli = run_cli(
      {"verify", "--db", dir / "c.db", "--collector-pubkey", dir / "c.db.collector.key.pub"});
  INFO(cli.out);
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find("ok, 3 events (seq 1..3), 3 signed chain heads verified") !=
        std::string::npos);
}

TEST_CASE("collector EK certificate check: verified, absent, untrusted with the reason",
          "[tpm][collector]") {
  SwtpmOptions with_cert;
  with_cert.with_ek_cert = true;
  Swtpm tpm(with_cert);
  ToolSeat seat(tpm);
  tool_ok(&tpm, {"tpm2_nvread", "0x01c00002", "-C", "o", "-o", tpm.dir() + "/ekcert.der"});
  std::string cert = slurp(tpm.dir() + "/ekcert.der");
  TPM2B_PUBLIC ek = at::unmarshal_public(seat.ek_public(), "ek");
  std::vector<std::string> vendors = {tpm.ca_dir() + "/issuercert.pem",
                                      tpm.ca_dir() + "/swtpm-localca-rootca-cert.pem"};
  CHECK(at::check_ek_cert(cert, ek.publicArea, vendors) == "verified");
  CHECK(at::check_ek_cert(std::nullopt, ek.publicArea, vendors) == "absent");
  CHECK(at::check_ek_cert(cert, ek.publicArea, {}).rfind("untrusted: no vendor CA", 0) == 0);

  // Another vendor's CA: the chain does not verify.
  TempDir dir;
  Pki pki(dir);
  CHECK(at::check_ek_cert(cert, ek.publicArea, {pki.ca}).rfind("untrusted: unable to get", 0) == 0);
  // A genuine certificate, but for another TPM's EK.
  Swtpm tpm2;
  ToolSeat other(tpm2);
  TPM2B_PUBLIC ek2 = at::unmarshal_public(other.ek_public(), "ek");
  CHECK(at::check_ek_cert(cert, ek2.publicArea, vendors) ==
        "untrusted: the certificate's key is not the EK");
  CHECK(at::check_ek_cert(std::string("junk"), ek.publicArea, vendors) ==
        "untrusted: not a DER X.509 certificate");
}
