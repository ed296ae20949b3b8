#pragma once
/// @file boundary_squares.hpp
/// Test helper shared by the geo and border tests: a clean square boundary feature.

#include <string>

#include "plumetrace/ingest/case.hpp"

namespace plumetrace::testing_support {

/// The square [lon0, lon1] x [lat0, lat1] as a closed, counter-clockwise ring, named "area CODE".
inline BoundaryFeature square(const std::string& code, double lon0, double lat0, double lon1, double lat1) {
  BoundaryFeature f;
  f.code = code;
  f.name = "area " + code;
  f.polygons.push_back({{{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0}}});
  return f;
}

}  // namespace plumetrace::testing_support
