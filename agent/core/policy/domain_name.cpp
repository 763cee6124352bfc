#include "core/policy/domain_name.hpp"

#include <cctype>
#include <vector>

namespace seatlock {

namespace {

bool ldh(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::vector<std::string_view> split_labels(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

DomainParse fail(std::string_view text, const std::string& why) {
  return {std::nullopt,
          "expected a domain name such as \"crm.example.com\" or \"*.example.com\" (" + why +
              "), got " + quoted(text)};
}

}  // namespace

bool looks_like_domain(std::string_view text) {
  if (text.find_first_of(":/") != std::string_view::npos) return false;
  return text.find_first_not_of("0123456789.") != std::string_view::npos;
}

DomainParse parse_domain_pattern(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty()) return fail(text, "empty name");
  if (s.size() > 253) return fail(text, "longer than 253 characters");
  auto labels = split_labels(s);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::string_view l = labels[i];
    if (l.empty()) return fail(text, "empty label");
    if (l == "*") {
      if (i != 0) return fail(text, "'*' only as the whole leftmost label");
      continue;
    }
    if (l.find('*') != std::string_view::npos)
      return fail(text, "'*' only as the whole leftmost label");
    if (l.size() > 63) return fail(text, "label " + quoted(l) + " is longer than 63 characters");
    for (char c : l)
      if (!ldh(c))
        return fail(text, "label " + quoted(l) + " has " + quoted(std::string(1, c)) +
                              "; only letters, digits and '-'");
    if (l.front() == '-' || l.back() == '-')
      return fail(text, "label " + quoted(l) + " begins or ends with '-'");
  }
  const bool wildcard = labels[0] == "*";
  if (labels.size() - (wildcard ? 1 : 0) < 2)
    return fail(text, wildcard ? "a wildcard needs at least two labels after \"*.\""
                               : "a fully qualified name has at least two labels");
  if (!std::isalpha(static_cast<unsigned char>(labels.back().front())))
    return fail(text, "the last label must begin with a letter");
  std::string canonical(s);
  for (char& c : canonical) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {canonical, ""};
}

}  // namespace seatlock
