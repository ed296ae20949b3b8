#include "plumetrace/sampling/inspections.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/ingest/readers.hpp"

namespace plumetrace::sampling {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::set<std::string> kTiers{"A", "B", "C", "D"};

/// std::mt19937_64 (its output sequence is fixed by the C++ standard) with integer and real
/// sampling written here, not <random>'s distributions, whose algorithms are the library's
/// choice: so a seed draws the same on every compiler and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [0, n), n >= 1, without modulo bias (rejection).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t min = (0 - n) % n;  // 2^64 mod n: [min, 2^64) holds a whole number of n-blocks
    for (;;) {
      const std::uint64_t x = engine_();
      if (x >= min) return x % n;
    }
  }
  /// Uniform in [0, 1) with 53 random bits.
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

std::string upper_trim(std::string_view s) {
  std::string out(trim_view(s));
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

Rates parse_rates(const std::string& text) {
  Rates r;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string part(trim_view(std::string_view(text).substr(pos, comma - pos)));
    pos = comma + 1;
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string::npos) throw InvalidInput("--rates: '" + part + "' is not TIER=RATE");
    const std::string tier = upper_trim(part.substr(0, eq));
    double rate = 0;
    if (!kTiers.count(tier)) throw InvalidInput("--rates: unknown credit tier '" + tier + "' (A-D)");
    if (!parse_finite_double(part.substr(eq + 1), rate) || rate < 0 || rate > 1)
      throw InvalidInput("--rates: the rate of tier " + tier + " must be a number in [0, 1], got '" + part.substr(eq + 1) + "'");
    if (!r.emplace(tier, rate).second) throw InvalidInput("--rates: tier " + tier + " given twice");
  }
  if (r.empty()) throw InvalidInput("--rates needs at least one TIER=RATE");
  return r;
}

std::vector<Facility> read_facilities(const fs::path& registry, Diagnostics& diag) {
  const std::string file = registry.filename().string();
  std::vector<Source> sources;
  std::string ext = ascii_lower(registry.extension().string());
  if (ext == ".csv") {
    CsvReader csv = CsvReader::open(registry);
    sources = read_sources_csv(csv, file, diag);
  } else {
    sources = read_sources_ogr(registry, file, diag);
  }
  std::vector<Facility> out;
  for (const Source& s : sources) {
    std::string credit;
    for (const auto& [k, v] : s.extra)
      if (ascii_lower(k) == "credit") credit = upper_trim(v);
    if (credit.empty()) {
      diag.reject(file, s.line, "facility " + s.id + " has no credit tier: not in the sampling population");
      continue;
    }
    if (!kTiers.count(credit)) {
      diag.reject(file, s.line, "facility " + s.id + ": credit '" + credit + "' is not A-D: not in the sampling population");
      continue;
    }
    out.push_back({s.id, credit});
  }
  if (out.empty()) throw InvalidInput(file + ": no facility with a credit tier (A-D) to sample from");
  return out;
}

std::vector<Inspector> read_inspectors(const fs::path& path, Diagnostics& diag) {
  const std::string file = path.filename().string();
  CsvReader csv = CsvReader::open(path);
  CsvRecord rec;
  if (!csv.next(rec)) throw InvalidInput(file + " is empty (needs id,name[,exclude])");
  const CsvHeader h(rec);
  const int c_id = h.index("id");
  const int c_name = h.index("name");
  const int c_ex = h.index("exclude");
  if (c_id < 0) throw InvalidInput(file + ": no 'id' column (needs id,name[,exclude])");
  std::vector<Inspector> out;
  std::set<std::string> seen;
  while (csv.next(rec)) {
    auto field = [&](int c) { return c >= 0 && static_cast<std::size_t>(c) < rec.size() ? std::string(trim_view(rec[static_cast<std::size_t>(c)])) : std::string(); };
    Inspector in;
    in.id = field(c_id);
    in.name = field(c_name);
    if (in.id.empty()) {
      diag.reject(file, rec.line, "inspector without an id");
      continue;
    }
    if (!seen.insert(in.id).second) {
      diag.reject(file, rec.line, "inspector " + in.id + " listed twice (the later row is ignored)");
      continue;
    }
    const std::string ex = field(c_ex);
    std::size_t pos = 0;
    while (pos <= ex.size()) {
      const std::size_t semi = std::min(ex.find(';', pos), ex.size());
      const std::string id(trim_view(std::string_view(ex).substr(pos, semi - pos)));
      if (!id.empty()) in.exclude.push_back(id);
      pos = semi + 1;
    }
    out.push_back(std::move(in));
  }
  return out;
}

Draw draw_inspections(const std::vector<Facility>& facilities, const std::vector<Inspector>& inspectors,
                      const Rates& rates, std::uint64_t seed) {
  // Checks that do not depend on the seed.
  std::map<std::string, std::vector<const Facility*>> by_tier;
  std::set<std::string> ids;
  for (const Facility& f : facilities) {
    if (!ids.insert(f.id).second) throw InvalidInput("facility " + f.id + " appears twice in the registry");
    by_tier[f.credit].push_back(&f);
  }
  for (const auto& [tier, fs] : by_tier)
    if (!rates.count(tier))
      throw InvalidInput("no rate for credit tier " + tier + " (" + std::to_string(fs.size()) + " facilities); give it in --rates");
  std::map<std::string, std::vector<std::size_t>> eligible;  // facility -> inspector indices, in file order
  std::vector<std::string> short_of;
  for (const Facility& f : facilities) {
    auto& e = eligible[f.id];
    for (std::size_t i = 0; i < inspectors.size(); ++i)
      if (std::find(inspectors[i].exclude.begin(), inspectors[i].exclude.end(), f.id) == inspectors[i].exclude.end())
        e.push_back(i);
    if (e.size() < 2) short_of.push_back(f.id + " (" + std::to_string(e.size()) + ")");
  }
  if (!short_of.empty()) {
    std::string list;
    for (std::size_t i = 0; i < short_of.size() && i < 10; ++i) list += (i ? ", " : "") + short_of[i];
    if (short_of.size() > 10) list += ", ... " + std::to_string(short_of.size() - 10) + " more";
    throw InvalidInput("every facility needs at least 2 inspectors not excluded from it; these have fewer: " + list);
  }

  Draw d;
  d.seed = seed;
  d.rates = rates;
  Rng rng(seed);
  for (auto& [tier, fs] : by_tier) {  // tiers in order A..D, facilities by id: independent of file order
    std::sort(fs.begin(), fs.end(), [](const Facility* a, const Facility* b) { return a->id < b->id; });
    const std::size_t n = fs.size();
    d.population[tier] = n;
    const double expected = rates.at(tier) * static_cast<double>(n);
    std::size_t k = static_cast<std::size_t>(std::floor(expected));
    const double frac = expected - static_cast<double>(k);
    if (frac > 0 && rng.unit() < frac) ++k;
    k = std::min(k, n);
    d.drawn_per_tier[tier] = k;
    // partial Fisher-Yates: the first k of a uniform permutation
    for (std::size_t i = 0; i < k; ++i) std::swap(fs[i], fs[i + rng.below(n - i)]);
    for (std::size_t i = 0; i < k; ++i) {
      Assignment a;
      a.facility_id = fs[i]->id;
      a.credit = tier;
      const auto& e = eligible.at(a.facility_id);
      const std::size_t first = rng.below(e.size());
      std::size_t second = rng.below(e.size() - 1);
      if (second >= first) ++second;
      a.inspectors[0] = inspectors[e[first]].id;
      a.inspectors[1] = inspectors[e[second]].id;
      d.drawn.push_back(std::move(a));
    }
  }
  for (const auto& [tier, r] : rates) {
    d.population.emplace(tier, 0);
    d.drawn_per_tier.emplace(tier, 0);
  }
  std::sort(d.drawn.begin(), d.drawn.end(),
            [](const Assignment& a, const Assignment& b) { return a.facility_id < b.facility_id; });
  return d;
}

json to_json(const Draw& d) {
  json drawn = json::array();
  for (const Assignment& a : d.drawn)
    drawn.push_back({{"facility_id", a.facility_id}, {"credit", a.credit}, {"inspectors", {a.inspectors[0], a.inspectors[1]}}});
  return {{"seed", d.seed}, {"rates", d.rates}, {"drawn", drawn}, {"population", d.population},
          {"drawn_per_tier", d.drawn_per_tier}};
}

}  // namespace plumetrace::sampling
