#include "os/net/nft.hpp"

#include <nftables/libnftables.h>

namespace seatlock::net {

Nft::Nft() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
  if (!ctx_) throw NftError("nft_ctx_new failed");
  nft_ctx_buffer_output(ctx_);
  nft_ctx_buffer_error(ctx_);
}

Nft::~Nft() {
  nft_ctx_free(ctx_);
}

void Nft::run(const std::string& commands) {
  int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
  std::string err = nft_ctx_get_error_buffer(ctx_);
  nft_ctx_get_output_buffer(ctx_);  // drain
  if (rc != 0) throw NftError(err.empty() ? "nft failed" : err);
}

nlohmann::json Nft::list_json(const std::string& command) {
  unsigned flags = nft_ctx_output_get_flags(ctx_);
  nft_ctx_output_set_flags(ctx_, flags | NFT_CTX_OUTPUT_JSON);
  int rc = nft_run_cmd_from_buffer(ctx_, command.c_str());
  nft_ctx_output_set_flags(ctx_, flags);
  std::string out = nft_ctx_get_output_buffer(ctx_);
  std::string err = nft_ctx_get_error_buffer(ctx_);
  if (rc != 0) throw NftError(err.empty() ? "nft " + command + " failed" : err);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.contains("nftables"))
    throw NftError("nft " + command + ": unreadable JSON output");
  return j["nftables"];
}

}  // namespace seatlock::net
