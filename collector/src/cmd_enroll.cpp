#include <string>

#include "commands.hpp"
#include "core/util/args.hpp"
#include "core/util/digest.hpp"
#include "signing.hpp"
#include "store_open.hpp"

namespace seatlock::collector {

int cmd_enroll(const ArgList& argv, std::ostream& out) {
  auto opts = store_option_names();
  opts.insert({"seat", "key"});
  ArgParser a(argv, opts, {});
  std::string spec = store_spec(a), seat = a.require("seat");
  std::string key_b64 = a.get("key").value_or("");
  std::string raw;
  if (!key_b64.empty() && (!base64_decode(key_b64, raw) || raw.size() != 32))
    throw UsageError(
        "--key: expected base64 of a 32-byte Ed25519 public key (the seat's X-Seatlock-Key)");
  for (char c : seat)
    if (c <= ' ' || c == 0x7f)
      throw UsageError("--seat: seat ids contain no spaces or control characters");
  auto store = open_store(spec, true);
  std::string token = new_enrollment_token();
  store->add_token(sha256_hex(token), seat, key_b64);
  out << token << "\n";  // shown once; only its hash is stored
  return 0;
}

}  // namespace seatlock::collector
