// The frames between seatlockd and seatlock-uplink (os/uplink/uplink_wire): bodies far larger
// than a socket buffer (1 MiB gzip batches, bundles) and binary bytes arrive whole.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "os/uplink/uplink_wire.hpp"

using namespace seatlock;

TEST_CASE("a request with a 3 MiB binary body and TLS material crosses the wire whole",
          "[uplink]") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  HttpRequest req;
  req.url = "https://collector.example:8443/v1/events";
  req.body = std::string(3u << 20, '\0');
  for (std::size_t i = 0; i < req.body->size(); ++i) (*req.body)[i] = static_cast<char>(i * 131);
  req.headers = {"Content-Encoding: gzip", "X-Seat: cc-1"};
  req.tls.ca_pem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  req.tls.key_pem = "-----BEGIN PRIVATE KEY-----\nK\n-----END PRIVATE KEY-----\n";
  req.tls.token = "tok";
  req.timeout_s = 30;
  // The writer blocks until the reader drains the socket: they must run concurrently.
  std::thread writer([&] {
    CHECK(uplink::write_frame(sv[0], uplink::request_frame(7, req)));
    CHECK(uplink::write_frame(sv[0], uplink::cancel_frame(8)));
    close(sv[0]);
  });
  auto f = uplink::read_frame(sv[1]);
  REQUIRE(f);
  CHECK(f->head["id"] == 7);
  HttpRequest got = uplink::request_of(*f);
  CHECK(got.url == req.url);
  REQUIRE(got.body);
  CHECK(*got.body == *req.body);
  CHECK(got.headers == req.headers);
  CHECK(got.tls.ca_pem == req.tls.ca_pem);
  CHECK(got.tls.key_pem == req.tls.key_pem);
  CHECK(got.tls.token == "tok");
  CHECK(got.timeout_s == 30);
  auto cancel = uplink::read_frame(sv[1]);
  REQUIRE(cancel);
  CHECK(cancel->head["op"] == "cancel");
  CHECK_FALSE(uplink::read_frame(sv[1]));  // clean end of stream
  writer.join();
  close(sv[1]);
}

TEST_CASE("an answer keeps status, Retry-After and body, and a GET has no body", "[uplink]") {
  HttpResult r;
  r.status = 503;
  r.retry_after_s = 12;
  r.body = std::string("\x1f\x8b\x00binary", 9);
  HttpResult back = uplink::result_of(uplink::result_frame(3, r));
  CHECK(back.status == 503);
  CHECK(back.retry_after_s == 12);
  CHECK(back.body == r.body);
  HttpRequest get;
  get.url = "https://c/v1/policy?after=4&wait=300";
  CHECK_FALSE(uplink::request_of(uplink::request_frame(1, get)).body);
}

TEST_CASE("a stream cut inside a frame is an error, not a short answer", "[uplink]") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  std::uint32_t lengths[2] = {10, 100};
  REQUIRE(write(sv[0], lengths, sizeof lengths) == sizeof lengths);
  REQUIRE(write(sv[0], "{\"id\":1}  ", 10) == 10);
  close(sv[0]);
  CHECK_THROWS_WITH(uplink::read_frame(sv[1]), Catch::Contains("ended inside a frame"));
  close(sv[1]);
}
