#pragma once
// The seat's Ed25519 signing key (<state_dir>/seat.key, PEM PKCS#8, mode 0600), generated at
// first start. It signs chain heads; the collector pins its public key per seat.
#include <cstdint>
#include <memory>
#include <string>

namespace seatlock {

class SeatKey {
 public:
  // Loads the key at `path`, or creates it (0600, written atomically) when missing.
  // Throws std::runtime_error on an unreadable or non-Ed25519 key.
  static SeatKey load_or_create(const std::string& path);
  ~SeatKey();
  SeatKey(SeatKey&&) noexcept;
  SeatKey& operator=(SeatKey&&) noexcept;

  std::string public_raw() const;  // 32 bytes
  std::string public_b64() const;
  std::string sign(const std::string& message) const;  // 64 raw bytes

 private:
  struct Impl;
  explicit SeatKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The exact ASCII bytes a chain head signature covers (docs/wire.md).
std::string chain_head_message(const std::string& seat_id, std::uint64_t seq,
                               const std::string& hash_hex);

}  // namespace seatlock
