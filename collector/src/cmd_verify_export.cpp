// verify-export: checks a console export (CSV or NDJSON from /api/export) offline against its
// signed manifest (/api/export-manifest) and, with --db/--store, against the store
// (console/export_verify.hpp). Exit 0 = every check passed, 1 = a problem was found.
#include <fstream>
#include <sstream>

#include "commands.hpp"
#include "console/export_verify.hpp"
#include "core/util/args.hpp"
#include "store_open.hpp"

namespace seatlock::collector {
namespace {

constexpr std::size_t kMaxPrinted = 100;

std::string read_key(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text)) throw std::runtime_error("cannot read --collector-pubkey " + file);
  return text;
}

}  // namespace

int cmd_verify_export(const ArgList& argv, std::ostream& out) {
  if (argv.empty() || argv[0].rfind("--", 0) == 0)
    throw UsageError(
        "usage: verify-export FILE --manifest MANIFEST [--collector-pubkey KEY.pub] "
        "[--db PATH | --store SPEC]");
  const std::string& file = argv[0];
  auto opts = store_option_names();
  opts.insert({"manifest", "collector-pubkey"});
  ArgParser a(ArgList(argv.begin() + 1, argv.end()), opts, {});
  const std::string manifest_path = a.require("manifest");
  std::optional<std::string> pinned;
  if (auto k = a.get("collector-pubkey")) pinned = read_key(*k);

  std::ifstream mf(manifest_path, std::ios::binary);
  if (!mf) throw std::runtime_error("cannot read the manifest " + manifest_path);
  std::stringstream text;
  text << mf.rdbuf();
  nlohmann::json manifest = nlohmann::json::parse(text.str(), nullptr, false);
  if (manifest.is_discarded())
    throw std::runtime_error("the manifest " + manifest_path + " is not JSON");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the export " + file);

  std::unique_ptr<EventStore> store;
  if (a.get("db") || a.get("store")) store = open_store(store_spec(a), false);
  console::ExportVerification v = console::verify_export(in, manifest, pinned, store.get());
  if (v.ok()) {
    out << file << ": ok\n";
    for (const std::string& n : v.notes) out << "  " << n << "\n";
    return 0;
  }
  for (std::size_t i = 0; i < v.problems.size() && i < kMaxPrinted; ++i)
    out << file << ": " << v.problems[i] << "\n";
  if (v.problems.size() > kMaxPrinted)
    out << file << ": ... and " << v.problems.size() - kMaxPrinted << " more problems\n";
  out << file << ": FAILED (" << v.problems.size() << " problems)\n";
  return 1;
}

}  // namespace seatlock::collector
