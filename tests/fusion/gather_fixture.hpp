#pragma once
// Shared by the fusion tests: gather a case's so2 observations on a 50 m grid in UTM 51N over a
// day from kGatherT0 − 1 h.
#include "plumetrace/fusion/observations.hpp"

namespace plumetrace::test {

inline constexpr double kGatherT0 = 1.6e9;

inline ObservationSet gather_so2(const Case& c) {
  const Transformer tr("EPSG:32651");
  Grid grid;
  grid.crs = "EPSG:32651";
  grid.cell_m = 50;
  return gather_observations(c, tr, grid, "so2", kGatherT0 - 3600, kGatherT0 + 86400);
}

}  // namespace plumetrace::test
