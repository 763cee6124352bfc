#include "os/net/nft.hpp"

#include <nftables/libnftables.h>

namespace seatlock::net {

namespace {

nft_ctx* buffered_context(unsigned output_flags) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return nullptr;
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  nft_ctx_output_set_flags(ctx, output_flags);
  return ctx;
}

}  // namespace

Nft::Nft() : ctx_(buffered_context(0)) {
  if (!ctx_) throw NftError("nft_ctx_new failed");
}

Nft::~Nft() {
  nft_ctx_free(ctx_);
  if (list_ctx_) nft_ctx_free(list_ctx_);
}

void Nft::run(const std::string& commands) {
  int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
  std::string err = nft_ctx_get_error_buffer(ctx_);
  nft_ctx_get_output_buffer(ctx_);  // drain
  if (rc != 0) throw NftError(err.empty() ? "nft failed" : err);
}

nlohmann::json Nft::list_json(const std::string& command) {
  // Made on first use: the boot oneshot never lists.
  if (!list_ctx_ && !(list_ctx_ = buffered_context(NFT_CTX_OUTPUT_JSON)))
    throw NftError("nft_ctx_new failed");
  int rc = nft_run_cmd_from_buffer(list_ctx_, command.c_str());
  std::string out = nft_ctx_get_output_buffer(list_ctx_);
  std::string err = nft_ctx_get_error_buffer(list_ctx_);
  if (rc != 0) throw NftError(err.empty() ? "nft " + command + " failed" : err);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.contains("nftables"))
    throw NftError("nft " + command + ": unreadable JSON output");
  return j["nftables"];
}

}  // namespace seatlock::net
