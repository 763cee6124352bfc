// JsonLocator: positions of values and keys by JSON pointer, with comments, CRLF and UTF-8.
#include "core/json/locator.hpp"

#include <catch2/catch.hpp>

using seatlock::JsonLocator;
using seatlock::TextPos;

TEST_CASE("locator finds values and keys of nested objects and arrays", "[policy][locator]") {
  std::string text =
      "{\n"
      "  \"usb\": {\n"
      "    \"mode\": \"enforce\",\n"
      "    \"exceptions\": [ {\"vid\": \"0951\"}, {\"until\": \"tomorrow\"} ]\n"
      "  }\n"
      "}\n";
  JsonLocator loc(text);
  CHECK(loc.value("") == TextPos{1, 1});
  CHECK(loc.value("/usb") == TextPos{2, 10});
  CHECK(loc.key("/usb") == TextPos{2, 3});
  CHECK(loc.value("/usb/mode") == TextPos{3, 13});
  CHECK(loc.value("/usb/exceptions/0") == TextPos{4, 21});
  CHECK(loc.value("/usb/exceptions/0/vid") == TextPos{4, 29});
  CHECK(loc.value("/usb/exceptions/1/until") == TextPos{4, 48});
  CHECK(loc.key("/usb/exceptions/1") == std::nullopt);  // array elements have no key
  CHECK(loc.value("/usb/nothing") == std::nullopt);
}

TEST_CASE("locator skips comments that contain JSON-like text", "[policy][locator]") {
  std::string text =
      "// header { \"usb\": 1 }\n"
      "{ /* \"mode\": \"x\", [ */ \"a\": 1, // trailing \"b\": 2\n"
      "  \"b\": \"// not a comment\", \"c\": [ /* } */ 7 ]\n"
      "}";
  JsonLocator loc(text);
  CHECK(loc.value("") == TextPos{2, 1});
  CHECK(loc.value("/a") == TextPos{2, 29});
  CHECK(loc.value("/b") == TextPos{3, 8});
  CHECK(loc.value("/c/0") == TextPos{3, 43});
  CHECK(loc.value("/mode") == std::nullopt);
}

TEST_CASE("locator counts CRLF and lone CR as one line break", "[policy][locator]") {
  std::string crlf = "{\r\n  // note\r\n  \"a\": {\r\n    \"b\": 2\r\n  }\r\n}\r\n";
  JsonLocator loc(crlf);
  CHECK(loc.value("/a") == TextPos{3, 8});
  CHECK(loc.value("/a/b") == TextPos{4, 10});
  JsonLocator cr("{\r\"a\":\r\r  1}");
  CHECK(cr.value("/a") == TextPos{4, 3});
}

TEST_CASE("locator columns count characters, not bytes, and keys are unescaped into pointers",
          "[policy][locator]") {
  std::string text =
      "{\"comment\": \"张伟 — seat\", \"x\": 1,\n \"a/b\": 2, \"m~n\": 3, \"q\\\"\\u00e9\": 4}";
  JsonLocator loc(text);
  CHECK(loc.value("/x") == TextPos{1, 31});
  CHECK(loc.value("/a~1b") == TextPos{2, 9});
  CHECK(loc.value("/m~0n") == TextPos{2, 19});
  CHECK(loc.value("/q\"\xc3\xa9") == TextPos{2, 35});
}

TEST_CASE("locator skips a UTF-8 byte order mark", "[policy][locator]") {
  JsonLocator loc("\xEF\xBB\xBF{\n  \"a\": 1}");
  CHECK(loc.value("/a") == TextPos{2, 8});
}

TEST_CASE("locator reports repeated keys in one object", "[policy][locator]") {
  JsonLocator loc("{\"usb\": {\"mode\": \"audit\", \"mode\": \"enforce\"}, \"x\": {\"mode\": 1}}");
  REQUIRE(loc.duplicate_keys() == std::vector<std::string>{"/usb/mode"});
  CHECK(loc.key("/usb/mode") == TextPos{1, 27});  // the later (winning) occurrence
}

TEST_CASE("locator survives text that is not valid JSON", "[policy][locator]") {
  JsonLocator loc("{\"a\": [1, 2, {\"b\": ");
  CHECK(loc.value("/a/1") == TextPos{1, 11});
  CHECK(loc.value("/a/2/b") == std::nullopt);
  JsonLocator deep(std::string(100000, '['));
  CHECK(deep.value("") == TextPos{1, 1});
}
