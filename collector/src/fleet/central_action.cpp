#include "central_action.hpp"

#include <cctype>
#include <chrono>
#include <sstream>

#include "../store_open.hpp"
#include "bundle_dir.hpp"
#include "fleet_key.hpp"
#include "fleet_publish.hpp"

namespace seatlock::collector::fleet_cli {

namespace {

std::string file_name_of(const std::string& rel) {
  return rel.substr(rel.rfind('/') + 1);
}

bool starts_with(const std::string& s, const std::string& p) {
  return s.rfind(p, 0) == 0;
}

// Drops the entries of `list` whose `until` has passed; returns the dropped ones.
std::vector<nlohmann::json> drop_expired(nlohmann::json& list, UnixMillis now) {
  std::vector<nlohmann::json> dropped;
  if (!list.is_array()) return dropped;
  nlohmann::json kept = nlohmann::json::array();
  for (auto& e : list) {
    auto until = e.is_object() && e.contains("until") && e["until"].is_string()
                     ? parse_rfc3339(e["until"].get<std::string>())
                     : std::nullopt;
    if (until && *until <= now)
      dropped.push_back(e);
    else
      kept.push_back(e);
  }
  list = kept;
  return dropped;
}

}  // namespace

std::set<std::string> central_action_option_names() {
  auto names = central_option_names();
  for (const auto& n : audit::collector_log_option_names()) names.insert(n);
  return names;
}

std::string checked_ticket(const ArgParser& a) {
  std::string t = a.require("ticket");
  bool ok = !t.empty() && t.size() <= 64;
  for (char c : t)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok)
    throw UsageError(
        "--ticket: expected a reference of letters, digits, '.', '_' or '-' (at most 64; it "
        "names the file in the tree), got \"" +
        t + "\"");
  return t;
}

UnixMillis until_from(const std::string& text, UnixMillis now) {
  std::optional<UnixMillis> t;
  if (auto d = parse_duration_ms(text); d && *d > 0)
    t = (now + *d) / 1000 * 1000;  // whole seconds: the files are for people too
  else
    t = parse_rfc3339(text.size() == 10 ? text + "T00:00:00Z" : text);
  if (!t)
    throw UsageError(
        "--until: expected an RFC 3339 time with offset (2026-12-02T18:00:00Z), a "
        "date (2026-12-02) or a duration from now (4h), got \"" +
        text + "\"");
  if (*t <= now) throw UsageError("--until: " + text + " has already passed");
  return *t;
}

std::string format_time(UnixMillis t) {
  std::string s = format_rfc3339_ms(t);  // "...T05:00:00.000Z"
  if (t % 1000 == 0 && s.size() > 5) s = s.substr(0, s.size() - 5) + "Z";
  return s;
}

CentralAction::CentralAction(const ArgParser& a, UnixMillis now, std::ostream& out)
    : now_(now), out_(out), setup_(resolve_central_setup(a)), edit_(setup_.tree) {
  auto lifetime = parse_duration_ms(setup_.expires);
  if (!lifetime || *lifetime <= 0)
    throw UsageError("expires: expected a duration such as 14d or 12h, got \"" + setup_.expires +
                     "\"");
  lifetime_ = *lifetime;
  key_ = read_fleet_key(setup_.key);  // a missing or bad key refuses before anything changes
  store_ = open_store(setup_.store_spec, /*create=*/true);
  log_ = std::make_unique<audit::CollectorLog>(*store_,
                                               audit::identity_from_args(a, setup_.store_spec));
  before_ = seatlock::fleet::plan_fleet(edit_.tree());
  for (const auto& s : before_.seats)
    for (const auto& f : s.files) seats_by_file_[f.name].push_back(s.seat);
}

CentralAction::~CentralAction() = default;

std::vector<std::string> CentralAction::all_seats() const {
  std::vector<std::string> out;
  for (const auto& s : before_.seats) out.push_back(s.seat);
  return out;
}

std::vector<std::string> CentralAction::seats_with_file(const std::string& rel) const {
  auto it = seats_by_file_.find(rel);
  return it == seats_by_file_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> CentralAction::seats_of_group(const std::string& group) const {
  std::vector<std::string> out;
  for (const auto& s : before_.seats)
    for (const auto& g : s.groups)
      if (g == group) out.push_back(s.seat);
  return out;
}

bool CentralAction::is_seat(const std::string& seat) const {
  for (const auto& s : before_.seats)
    if (s.seat == seat) return true;
  return false;
}

bool CentralAction::is_group(const std::string& group) const {
  for (const auto& g : before_.map.groups)
    if (g.name == group) return true;
  return false;
}

std::vector<std::string> CentralAction::files_named(const std::string& name) const {
  std::vector<std::string> out;
  auto scan = [&](const std::vector<PolicyFile>& files) {
    for (const auto& f : files)
      if (file_name_of(f.name) == name) out.push_back(f.name);
  };
  scan(edit_.tree().all);
  for (const auto& [dir, files] : edit_.tree().groups) scan(files);
  for (const auto& [dir, files] : edit_.tree().seats) scan(files);
  return out;
}

std::vector<GrantPrune> expired_grant_prunes(const seatlock::fleet::FleetTree& tree,
                                             UnixMillis now) {
  std::vector<const PolicyFile*> grants;
  auto scan = [&](const std::vector<PolicyFile>& files) {
    for (const auto& f : files)
      if (starts_with(file_name_of(f.name), kGrantPrefix)) grants.push_back(&f);
  };
  scan(tree.all);
  for (const auto& [dir, files] : tree.groups) scan(files);
  for (const auto& [dir, files] : tree.seats) scan(files);
  std::vector<GrantPrune> prunes;
  for (const PolicyFile* f : grants) {
    auto doc = nlohmann::json::parse(f->text, nullptr, false);
    if (!doc.is_object()) continue;  // not ours to fix: `check` reports it
    GrantPrune p;
    p.file = f->name;
    for (const char* section : {"usb", "network"}) {
      if (!doc.contains(section) || !doc[section].is_object() ||
          !doc[section].contains("exceptions"))
        continue;
      auto d = drop_expired(doc[section]["exceptions"], now);
      p.dropped.insert(p.dropped.end(), d.begin(), d.end());
      if (doc[section]["exceptions"].empty()) doc[section].erase("exceptions");
      if (doc[section].empty()) doc.erase(section);
    }
    if (p.dropped.empty()) continue;
    bool nothing_left = doc.empty() || (doc.size() == 1 && doc.contains("comment"));
    if (!nothing_left) p.text = doc.dump(2) + "\n";
    prunes.push_back(std::move(p));
  }
  return prunes;
}

void CentralAction::prune_expired_grants() {
  for (auto& p : expired_grant_prunes(edit_.tree(), now_)) {
    for (const auto& e : p.dropped) {
      audit::CollectorEventInput in;
      in.kind = "fleet.grant_expired";
      in.severity = "info";
      in.outcome = "removed";
      in.actor = setup_.actor;
      in.seats = seats_with_file(p.file);
      in.details = {{"file", p.file},
                    {"grant", e},
                    {"ticket", e.value("ticket", "")},
                    {"until", e.value("until", "")}};
      expired_.push_back(std::move(in));
    }
    out_ << "pruned expired grant " << p.file << (p.text ? "" : " (file removed)") << "\n";
    if (p.text)
      edit_.write(p.file, *p.text);
    else
      edit_.remove(p.file);
  }
}

std::optional<std::uint64_t> CentralAction::publish() {
  prune_expired_grants();
  auto started = std::chrono::steady_clock::now();
  auto plan = edit_.check(now_, out_);
  if (!plan.errors.empty()) {
    out_ << plan.errors.size() << " error(s); the tree was not changed and nothing was published\n";
    return std::nullopt;
  }
  std::ostringstream published;
  int rc = 1;
  try {
    edit_.commit();
    // The plan just checked is the tree now on disk: publish it as `fleet publish` does.
    rc = publish_checked(plan, key_, setup_.bundles, now_, lifetime_, started, published);
  } catch (...) {
    edit_.rollback();
    throw;
  }
  out_ << published.str();
  if (rc != 0) {
    edit_.rollback();
    out_ << "the tree was put back as it was\n";
    return std::nullopt;
  }
  version_ = BundleDir(setup_.bundles).current_version();
  for (const auto& in : expired_) record(in);
  audit::CollectorEventInput pub;
  pub.kind = "fleet.published";
  pub.severity = "info";
  pub.outcome = "applied";
  pub.actor = setup_.actor;
  // Not every seat by name (10,000 ids): the action recorded next names the seats it concerns.
  pub.details = {
      {"seats_count", plan.seats.size()}, {"tree", setup_.tree}, {"bundles", setup_.bundles}};
  record(pub);
  return version_;
}

std::string CentralAction::record(const audit::CollectorEventInput& in) {
  audit::CollectorEventInput copy = in;
  if (version_ > 0 && !copy.details.contains("version")) copy.details["version"] = version_;
  return log_->record(copy).id;
}

}  // namespace seatlock::collector::fleet_cli
