#include "core/firmware/values.hpp"

#include <catch2/catch.hpp>

using namespace seatlock::firmware;

TEST_CASE("setting values from every vendor spelling normalise to one form", "[firmware][values]") {
  CHECK(normalise_value("Enabled\n") == "enabled");  // Dell
  CHECK(normalise_value("Disabled") == "disabled");
  CHECK(normalise_value("Enable") == "enabled");  // Lenovo 6.3+, HP
  CHECK(normalise_value("Disable\n") == "disabled");
  CHECK(normalise_value("Enable;[Optional:Disable,Enable]\n") == "enabled");  // thinklmi before 6.3
  CHECK(normalise_value("Disable;[Optional:Disable,Enable]") == "disabled");
  CHECK(normalise_value("Primary;[Optional:Primary,Automatic][Status:ShowOnly]") == "primary");
  CHECK(normalise_value("  Allow only   keyboard and Mouse \n") == "allow only keyboard and mouse");
  CHECK(normalise_value("AlwaysExceptInternalHdd") == "alwaysexceptinternalhdd");
  CHECK(normalise_value("") == "");
}

TEST_CASE("decorations are stripped but the vendor's value is kept for evidence",
          "[firmware][values]") {
  CHECK(strip_decorations("Enable;[Optional:Disable,Enable]\n") == "Enable");
  CHECK(strip_decorations("[01/01/2019][Status:ShowOnly]") == "[01/01/2019]");
  CHECK(strip_decorations("Windows 10\n") == "Windows 10");
}

TEST_CASE("possible values split in both list styles", "[firmware][values]") {
  CHECK(split_possible_values("Disabled;Enabled;\n") ==
        std::vector<std::string>{"Disabled", "Enabled"});
  CHECK(split_possible_values("Linux,Windows 10") ==
        std::vector<std::string>{"Linux", "Windows 10"});
  CHECK(split_possible_values("Enable;[Optional:Disable,Enable]") ==
        std::vector<std::string>{"Disable", "Enable"});
  CHECK(split_possible_values("").empty());
}

TEST_CASE("is_enabled reads only 0 and 1", "[firmware][values]") {
  CHECK(parse_is_enabled("1\n") == true);
  CHECK(parse_is_enabled("0") == false);
  CHECK_FALSE(parse_is_enabled("yes").has_value());
  CHECK_FALSE(parse_is_enabled("").has_value());
}

TEST_CASE("efivar booleans are 4 attribute bytes plus one value byte", "[firmware][values]") {
  using namespace std::string_literals;
  CHECK(parse_efivar_bool("\x06\0\0\0\x01"s) == true);
  CHECK(parse_efivar_bool("\x06\0\0\0\x00"s) == false);
  CHECK(parse_efivar_bool("\x07\0\0\0\x01"s) == true);                // attributes do not matter
  CHECK_FALSE(parse_efivar_bool("\x01"s).has_value());                // no attribute bytes
  CHECK_FALSE(parse_efivar_bool("\x06\0\0\0"s).has_value());          // truncated
  CHECK_FALSE(parse_efivar_bool("\x06\0\0\0\x01\x00"s).has_value());  // too long
  CHECK_FALSE(parse_efivar_bool("\x06\0\0\0\x02"s).has_value());      // not a boolean
}
