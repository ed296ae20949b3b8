// "Double random" inspection sampling: rates per credit tier (χ² over many seeds), two distinct
// inspectors never excluded, reproducibility from the seed, and the checks made before a draw.

#include "plumetrace/sampling/inspections.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <set>

#include "../support/temp_dir.hpp"
#include "plumetrace/core/error.hpp"

namespace {

namespace fs = std::filesystem;
using namespace plumetrace;
using namespace plumetrace::sampling;

/// Upper χ² quantile (Wilson–Hilferty), p = 0.001 (z = 3.0902); within 1 % for df >= 3.
double chi2_limit(int df) {
  const double k = df;
  const double z = 3.0902;
  const double a = 2.0 / (9.0 * k);
  return k * std::pow(1.0 - a + z * std::sqrt(a), 3);
}

/// A population with fractional expectations r*n in every tier.
std::vector<Facility> population() {
  std::vector<Facility> f;
  const std::pair<const char*, int> tiers[] = {{"A", 210}, {"B", 130}, {"C", 47}, {"D", 17}};
  for (const auto& [tier, n] : tiers)
    for (int i = 0; i < n; ++i) f.push_back({std::string(tier) + "-" + std::to_string(1000 + i), tier});
  return f;
}

/// Six inspectors; each facility is excluded for a few of them (at most 3 of 6).
std::vector<Inspector> inspectors(const std::vector<Facility>& facs) {
  std::vector<Inspector> in;
  for (int i = 0; i < 6; ++i) in.push_back({"I" + std::to_string(i), "Inspector " + std::to_string(i), {}});
  for (std::size_t k = 0; k < facs.size(); ++k)
    for (int i = 0; i < 6; ++i)
      if ((k * 7 + static_cast<std::size_t>(i) * 3) % 5 < 2) in[static_cast<std::size_t>(i)].exclude.push_back(facs[k].id);
  return in;
}

const Rates kRates{{"A", 0.03}, {"B", 0.05}, {"C", 0.2}, {"D", 0.5}};

TEST(Sampling, ParseRates) {
  const Rates r = parse_rates("A=0.03, b=0.05,C=0.2,D=0.5");
  EXPECT_EQ(r, kRates);
  EXPECT_THROW((void)parse_rates("E=0.1"), InvalidInput);
  EXPECT_THROW((void)parse_rates("A=1.5"), InvalidInput);
  EXPECT_THROW((void)parse_rates("A=-0.1"), InvalidInput);
  EXPECT_THROW((void)parse_rates("A=x"), InvalidInput);
  EXPECT_THROW((void)parse_rates("A=0.1,A=0.2"), InvalidInput);
  EXPECT_THROW((void)parse_rates("A"), InvalidInput);
  EXPECT_THROW((void)parse_rates(""), InvalidInput);
}

TEST(Sampling, TheSameSeedGivesTheSameDrawWhateverTheFileOrder) {
  auto facs = population();
  const auto in = inspectors(facs);
  const Draw a = draw_inspections(facs, in, kRates, 42);
  std::reverse(facs.begin(), facs.end());
  const Draw b = draw_inspections(facs, in, kRates, 42);
  EXPECT_EQ(to_json(a), to_json(b));
  EXPECT_NE(to_json(a), to_json(draw_inspections(facs, in, kRates, 43)));
  EXPECT_EQ(to_json(a)["seed"], 42);
  EXPECT_EQ(to_json(a)["population"]["A"], 210);
}

TEST(Sampling, TierRatesHoldOverManySeedsChiSquare) {
  const auto facs = population();
  const auto in = inspectors(facs);
  constexpr int kSeeds = 4000;
  std::map<std::string, double> drawn;            // total over the seeds, per tier
  std::map<std::string, int> n_tier;
  std::map<std::string, int> extra;               // seeds where the Bernoulli remainder added one
  std::map<std::string, int> per_facility;
  for (const Facility& f : facs) ++n_tier[f.credit];
  std::size_t assignments = 0;
  for (int s = 1; s <= kSeeds; ++s) {
    const Draw d = draw_inspections(facs, in, kRates, static_cast<std::uint64_t>(s));
    for (const auto& [tier, k] : d.drawn_per_tier) {
      drawn[tier] += static_cast<double>(k);
      const double expected = kRates.at(tier) * n_tier[tier];
      ASSERT_TRUE(k == static_cast<std::size_t>(std::floor(expected)) || k == static_cast<std::size_t>(std::floor(expected)) + 1)
          << tier << " drew " << k;
      if (static_cast<double>(k) > std::floor(expected)) ++extra[tier];
    }
    for (const Assignment& a : d.drawn) {
      ++per_facility[a.facility_id];
      ++assignments;
      // exclusions always hold, and the two inspectors differ
      ASSERT_NE(a.inspectors[0], a.inspectors[1]);
      for (const std::string& who : a.inspectors) {
        const auto it = std::find_if(in.begin(), in.end(), [&](const Inspector& i) { return i.id == who; });
        ASSERT_NE(it, in.end());
        ASSERT_EQ(std::count(it->exclude.begin(), it->exclude.end(), a.facility_id), 0)
            << who << " is excluded from " << a.facility_id << " (seed " << s << ")";
      }
    }
  }
  // χ² of the tier totals against S * r * n (df = 4 tiers, the rates fully specified)
  double chi2 = 0;
  for (const auto& [tier, n] : n_tier) {
    const double e = kSeeds * kRates.at(tier) * n;
    chi2 += (drawn[tier] - e) * (drawn[tier] - e) / e;
    std::cout << "tier " << tier << ": n " << n << ", rate " << kRates.at(tier) << ", drawn rate "
              << drawn[tier] / (kSeeds * static_cast<double>(n)) << "\n";
  }
  std::cout << "tier rates: chi2 " << chi2 << ", df 4, limit (p=0.001) " << chi2_limit(4) << "\n";
  EXPECT_LT(chi2, chi2_limit(4));
  // the Bernoulli remainder: P(one more) = r*n - floor(r*n), within 4 sigma
  for (const auto& [tier, n] : n_tier) {
    const double expected = kRates.at(tier) * n;
    const double frac = expected - std::floor(expected);
    const double sigma = std::sqrt(frac * (1 - frac) / kSeeds);
    EXPECT_NEAR(extra[tier] / static_cast<double>(kSeeds), frac, 4 * sigma + 1e-12) << tier;
  }
  // each facility of a tier is drawn with probability r: χ² over the facilities (binomial variance)
  for (const auto& [tier, n] : n_tier) {
    const double r = kRates.at(tier);
    const double e = kSeeds * r;
    double c2 = 0;
    for (const Facility& f : facs)
      if (f.credit == tier) {
        const double o = per_facility.count(f.id) ? per_facility[f.id] : 0;
        c2 += (o - e) * (o - e) / (e * (1 - r));
      }
    std::cout << "tier " << tier << " facilities: chi2 " << c2 << ", df " << n - 1 << ", limit (p=0.001) "
              << chi2_limit(n - 1) << "\n";
    EXPECT_LT(c2, chi2_limit(n - 1)) << tier;
  }
  std::cout << assignments << " assignments over " << kSeeds << " seeds: no inspector excluded from a facility\n";
}

TEST(Sampling, EveryFacilityNeedsTwoInspectorsNotExcludedWhateverTheSeed) {
  std::vector<Facility> facs{{"F1", "A"}, {"F2", "D"}};
  std::vector<Inspector> in{{"I1", "", {"F2"}}, {"I2", "", {}}, {"I3", "", {"F2"}}};
  // F2 has one eligible inspector: refused even when the rate of its tier is 0
  try {
    (void)draw_inspections(facs, in, {{"A", 1.0}, {"D", 0.0}}, 1);
    FAIL() << "no error";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("F2 (1)"), std::string::npos) << e.what();
  }
  in[2].exclude.clear();
  const Draw d = draw_inspections(facs, in, {{"A", 1.0}, {"D", 1.0}}, 7);
  ASSERT_EQ(d.drawn.size(), 2u);
  const auto& f2 = d.drawn[1];
  EXPECT_EQ(f2.facility_id, "F2");
  EXPECT_EQ(std::set<std::string>({f2.inspectors[0], f2.inspectors[1]}), (std::set<std::string>{"I2", "I3"}));
}

TEST(Sampling, ATierWithoutARateIsRefused) {
  std::vector<Facility> facs{{"F1", "A"}, {"F2", "C"}};
  std::vector<Inspector> in{{"I1", "", {}}, {"I2", "", {}}};
  EXPECT_THROW((void)draw_inspections(facs, in, {{"A", 0.5}}, 1), InvalidInput);
}

TEST(Sampling, ReadsTheRegistryCreditAndTheInspectors) {
  const fs::path dir = testing_support::fresh_temp_dir("plumetrace_sampling");
  {
    std::ofstream r(dir / "sources.csv");
    r << "id,name,lon,lat,height_m,credit\nS1,a,120,28,10,A\nS2,b,120.1,28,10,d\nS3,c,120.2,28,10,\nS4,d,120.3,28,10,X\n";
    std::ofstream i(dir / "inspectors.csv");
    i << "id,name,exclude\nI1,Li,S1;S2\nI2,Wang,\nI3,Zhang,S2\nI2,dup,\n,noid,\n";
  }
  Diagnostics diag;
  const auto facs = read_facilities(dir / "sources.csv", diag);
  ASSERT_EQ(facs.size(), 2u);
  EXPECT_EQ(facs[1].credit, "D");
  const auto in = read_inspectors(dir / "inspectors.csv", diag);
  ASSERT_EQ(in.size(), 3u);
  EXPECT_EQ(in[0].exclude, (std::vector<std::string>{"S1", "S2"}));
  // S3 (no credit), S4 (bad credit), the duplicate and the id-less inspector: reported with lines
  ASSERT_EQ(diag.rejected().size(), 4u);
  EXPECT_EQ(diag.rejected()[0].line, 4u);
  EXPECT_EQ(diag.rejected()[1].line, 5u);
  EXPECT_EQ(diag.rejected()[2].line, 5u);
  EXPECT_EQ(diag.rejected()[3].line, 6u);
  fs::remove_all(dir);
}

}  // namespace
