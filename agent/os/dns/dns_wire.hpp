#pragma once
// DNS messages through ldns (Debian's libldns): the guard reads the question of a query and the
// answer section of a response, and builds its own refusals. No hand-written wire parsing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dns/answer_elements.hpp"

namespace seatlock::dns {

struct Query {
  std::uint16_t id = 0;
  std::string name;   // as asked, with ldns' trailing dot ("crm.example.com.")
  std::string qtype;  // "A", "AAAA", "TXT", ... (ldns' mnemonic)
};

// A standard query (QR=0, opcode QUERY) with exactly one question; nullopt otherwise (the
// guard then answers FORMERR if it can read the header, else drops the datagram).
std::optional<Query> parse_query(const std::uint8_t* data, std::size_t len);

struct Response {
  std::uint16_t id = 0;
  std::string question;  // the response's question name
  bool truncated = false;
  std::vector<AnswerRecord> answer;
};

// A response (QR=1) with one question; nullopt when malformed.
std::optional<Response> parse_response(const std::uint8_t* data, std::size_t len);

// A recursive query for `name` (A, or AAAA when `aaaa`): the guard's own start-up lookups.
// Empty when `name` is not a valid domain name.
std::vector<std::uint8_t> make_query(const std::string& name, bool aaaa, std::uint16_t id);

// DNS response codes the guard sends (RFC 1035 4.1.1).
enum Rcode : int { kFormErr = 1, kServFail = 2, kNxDomain = 3, kRefused = 5 };

// A reply to `query` (the client's bytes) with no records and the given rcode
// (Rcode), echoing id, RD and the question when
// readable; empty when not even the header is readable.
std::vector<std::uint8_t> error_reply(const std::uint8_t* query, std::size_t len, int rcode);

}  // namespace seatlock::dns
