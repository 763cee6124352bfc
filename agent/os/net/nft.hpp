#pragma once
// libnftables adapter: one context (one netlink socket) for the life of the owner, so a table
// created with `flags owner` stays owned by it. Every run() is one atomic transaction.
// Listings run in a second context: a listing fills the context's cache with every set element,
// and after one in the transaction context each later transaction fetched all of them again (at
// 10,000 CIDRs an in-place change in seatlockd took 36-85 ms instead of 1-9 whenever
// `net status` had listed the counters in between).
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

struct nft_ctx;

namespace seatlock::net {

struct NftError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Nft {
 public:
  Nft();
  ~Nft();
  Nft(const Nft&) = delete;
  Nft& operator=(const Nft&) = delete;

  // Runs `commands` (native syntax) as one transaction; throws NftError with nft's message.
  void run(const std::string& commands);
  // Runs a list command with JSON output (in the listing context) and returns the parsed
  // "nftables" array.
  nlohmann::json list_json(const std::string& command);

 private:
  nft_ctx* ctx_;
  nft_ctx* list_ctx_ = nullptr;  // made by the first list_json()
};

}  // namespace seatlock::net
