// The one USB class table (core/usb/usb_class_table.hpp) against everything that lists class
// names: the policy validator, the udev rule generator, the JSON Schema enum and the table in
// policy/README.md. A name added in one place only fails here.
#include "core/usb/usb_class_table.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/policy/formats.hpp"
#include "core/policy/loader.hpp"
#include "core/usb/usb_classes.hpp"
#include "core/usb/usb_udev_rules.hpp"

using namespace seatlock;

namespace {

std::string slurp(const std::string& rel) {
  std::ifstream f(std::string(SEATLOCK_SOURCE_DIR) + "/" + rel);
  REQUIRE(f);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> allowable_names() {
  std::vector<std::string> out;
  for (const auto& row : kUsbClassTable)
    if (row.allowable) out.push_back(row.name);
  return out;
}

// The rows of the class table in policy/README.md (after its "| name | code |" header).
std::vector<std::string> readme_rows() {
  std::istringstream in(slurp("policy/README.md"));
  std::vector<std::string> rows;
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "| name | code | typical devices |") {
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.empty() || line[0] != '|') break;
    rows.push_back(line);
  }
  return rows;
}

bool policy_accepts(const std::string& class_name) {
  PolicyLoadOptions o;
  o.now = 1;
  auto r = load_policy({{"t.json", R"({"usb": {"allow_classes": [")" + class_name + R"("]}})"}}, o);
  return r.policy.has_value();
}

}  // namespace

TEST_CASE("the JSON Schema enum of usb.allow_classes is the table's allowable names",
          "[usb][classes]") {
  auto schema = nlohmann::json::parse(slurp("policy/seatlock-policy.schema.json"));
  auto en = schema.at("/properties/usb/properties/allow_classes/items/enum"_json_pointer);
  CHECK(en.get<std::vector<std::string>>() == allowable_names());
}

TEST_CASE("the class table in policy/README.md is the table, row for row", "[usb][classes]") {
  std::vector<std::string> want;
  for (const auto& row : kUsbClassTable)
    want.push_back(std::string("| `") + row.name + "` | " + hex2(row.code) + " |" +
                   (*row.devices ? " " + std::string(row.devices) + " |" : " |"));
  CHECK(readme_rows() == want);
  for (const auto& row : kUsbClassTable) {
    INFO(row.name << ": the README must say whether it can be allowed by name");
    CHECK((std::string(row.devices).find("not allowable by name") == std::string::npos) ==
          row.allowable);
  }
}

TEST_CASE("the validator and core/usb take their names from the table", "[usb][classes]") {
  REQUIRE(policy_format::usb_class_names().size() == kUsbClassTable.size());
  REQUIRE(usb_class_names().size() == kUsbClassTable.size());
  for (std::size_t i = 0; i < kUsbClassTable.size(); ++i) {
    const auto& row = kUsbClassTable[i];
    INFO(row.name);
    CHECK(policy_format::usb_class_names()[i].name == std::string(row.name));
    CHECK(policy_format::usb_class_names()[i].code == row.code);
    CHECK(usb_class_names()[i].name == std::string(row.name));
    CHECK(usb_class_names()[i].code == row.code);
    // What a policy author sees: the loader accepts allowable names and refuses the others.
    CHECK(policy_accepts(row.name) == row.allowable);
    CHECK(check_allow_classes({row.name}).empty() == row.allowable);
  }
  CHECK_FALSE(policy_accepts("floppy"));
}

TEST_CASE("the udev rules authorize each allowable class by its code", "[usb][classes][udev]") {
  UsbPolicy p;
  p.allow_classes = allowable_names();
  const std::string rules = generate_usb_udev_rules(p);
  for (const auto& row : kUsbClassTable) {
    INFO(row.name);
    const std::string line = "# " + std::string(row.name) + "\nATTR{bInterfaceClass}==\"" +
                             hex2(row.code) + "\", GOTO=\"seatlock_usb_authorize\"\n";
    CHECK((rules.find(line) != std::string::npos) == row.allowable);
  }
}
