#pragma once
// Console account passwords and names (issue 15). Passwords are kept only as libsodium Argon2id
// strings (crypto_pwhash_str: "$argon2id$v=19$m=65536,t=2,p=1$salt$hash") and never logged.
//
// Cost: OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE (2 passes over 64 MiB, ~0.1-0.2 s here).
// MODERATE (256 MiB, ~0.7 s) would slow an offline attack on a stolen store 4x more, but every
// concurrent console login would then hold 256 MiB on a collector that is also ingesting a fleet;
// online guessing is bounded by the login policy (login_policy.hpp) instead, and the parameters
// live in each hash, so raising them later needs no migration (needs_rehash()).
#include <optional>
#include <string>

namespace seatlock::collector::console {

// sodium_init() once per process; throws if libsodium cannot initialise.
void ensure_sodium();

// Argon2id string of `password` (random salt). Throws on failure (out of memory).
std::string hash_password(const std::string& password);
// true when `password` matches `hash`; false for a wrong password or a malformed hash.
bool verify_password(const std::string& hash, const std::string& password);
// true when `hash` was made with other parameters than hash_password() uses now.
bool needs_rehash(const std::string& hash);
// A fixed hash of a random password, checked for unknown accounts so that "no such account"
// costs as long as "wrong password".
const std::string& dummy_hash();

// Account names: 1-32 characters, a lower-case letter first, then lower-case letters, digits,
// '.', '_' or '-'. Returns the reason a name is refused, or nullopt when it is fine.
std::optional<std::string> name_problem(const std::string& name);
// Passwords: 12 to 1024 bytes, no control characters (a newline means a paste went wrong).
std::optional<std::string> password_problem(const std::string& password);
// "auditor" or "admin".
bool is_role(const std::string& role);

}  // namespace seatlock::collector::console
