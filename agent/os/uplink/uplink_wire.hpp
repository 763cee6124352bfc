#pragma once
// The wire between seatlockd and seatlock-uplink over their socketpair (SOCK_STREAM): frames
// of [u32 head length][u32 body length][head: JSON][body: raw bytes], native byte order (both
// ends are the same host). The head says what the frame is; the body carries what may be large
// or binary (a gzip'd batch of up to 1 MiB, a bundle), so it never goes through JSON.
//
//   seatlockd -> uplink  {"id":N,"op":"post"|"get","url":..,"headers":[..],"timeout_s":..,
//                         "tls":{"ca":PEM,"cert":PEM,"key":PEM,"token":..}} + request body
//                        {"id":N,"op":"cancel"}
//                        {"id":N,"op":"ping"}  (answered at once: the child is ready)
//   uplink -> seatlockd  {"id":N,"status":..,"error":..,"retry_after_s":..} + response body
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "os/delivery/http_post.hpp"

namespace seatlock::uplink {

inline constexpr std::uint32_t kMaxHeadBytes = 1u << 20;
inline constexpr std::uint32_t kMaxBodyBytes = 64u << 20;

struct Frame {
  nlohmann::json head;
  std::string body;
};

// Writes the whole frame (MSG_NOSIGNAL: a gone peer is an error, not SIGPIPE). False on error.
bool write_frame(int fd, const Frame& frame);
// The next frame; nullopt at end of stream. Throws std::runtime_error on a read error or a
// malformed frame (the stream cannot be trusted after it).
std::optional<Frame> read_frame(int fd);

Frame request_frame(std::uint64_t id, const HttpRequest& request);
HttpRequest request_of(const Frame& frame);
Frame cancel_frame(std::uint64_t id);
Frame ping_frame(std::uint64_t id);
Frame result_frame(std::uint64_t id, const HttpResult& result);
HttpResult result_of(const Frame& frame);

}  // namespace seatlock::uplink
