#pragma once
/// @file isc3_tables.hpp  (private to src/kernels)
/// ISC3 rural Pasquill–Gifford coefficients, EPA-454/B-95-003b Vol. II:
/// Table 1-1 (σy: TH = 0.017453293 (c − d ln x), x in km) and Table 1-2 (σz = a x^b, x in km,
/// by distance segment; upper bounds inclusive; σz capped at 5000 m).
/// The published coefficients are rounded to 5 significant figures; the worst relative jump of σz
/// at a segment join is 0.041 % (class A at 0.10 km) — see tests/kernels/sigmas_test.cpp.

namespace plumetrace {

struct Isc3SigmaYCoef {
  double c;
  double d;
};

/// Table 1-1, classes A..F.
inline constexpr Isc3SigmaYCoef kIsc3SigmaY[6] = {
    {24.1670, 2.5334}, {18.3330, 1.8096}, {12.5000, 1.0857},
    {8.3330, 0.72382}, {6.2500, 0.54287}, {4.1667, 0.36191},
};

struct Isc3SigmaZSegment {
  double x_max_km;  ///< upper bound of the segment (inclusive); the last segment is open-ended
  double a;
  double b;
};

struct Isc3SigmaZClass {
  int n;
  Isc3SigmaZSegment seg[10];
};

inline constexpr double kIsc3SigmaZCapM = 5000.0;
inline constexpr double kOpenEnd = 1e300;

/// Table 1-2, classes A..F. Class A beyond 3.11 km and class B beyond 35 km are 5000 m: that is
/// the cap (the power law reaches 5000 m at 3.107 km and 34.9 km, so min(a x^b, 5000) is continuous).
inline constexpr Isc3SigmaZClass kIsc3SigmaZ[6] = {
    {8,
     {{0.10, 122.800, 0.94470},
      {0.15, 158.080, 1.05420},
      {0.20, 170.220, 1.09320},
      {0.25, 179.520, 1.12620},
      {0.30, 217.410, 1.26440},
      {0.40, 258.890, 1.40940},
      {0.50, 346.750, 1.72830},
      {kOpenEnd, 453.850, 2.11660}}},
    {3, {{0.20, 90.673, 0.93198}, {0.40, 98.483, 0.98332}, {kOpenEnd, 109.300, 1.09710}}},
    {1, {{kOpenEnd, 61.141, 0.91465}}},
    {6,
     {{0.30, 34.459, 0.86974},
      {1.00, 32.093, 0.81066},
      {3.00, 32.093, 0.64403},
      {10.00, 33.504, 0.60486},
      {30.00, 36.650, 0.56589},
      {kOpenEnd, 44.053, 0.51179}}},
    {9,
     {{0.10, 24.260, 0.83660},
      {0.30, 23.331, 0.81956},
      {1.00, 21.628, 0.75660},
      {2.00, 21.628, 0.63077},
      {4.00, 22.534, 0.57154},
      {10.00, 24.703, 0.50527},
      {20.00, 26.970, 0.46713},
      {40.00, 35.420, 0.37615},
      {kOpenEnd, 47.618, 0.29592}}},
    {10,
     {{0.20, 15.209, 0.81558},
      {0.70, 14.457, 0.78407},
      {1.00, 13.953, 0.68465},
      {2.00, 13.953, 0.63227},
      {3.00, 14.823, 0.54503},
      {7.00, 16.187, 0.46490},
      {15.00, 17.836, 0.41507},
      {30.00, 22.651, 0.32681},
      {60.00, 27.074, 0.27436},
      {kOpenEnd, 34.219, 0.21716}}},
};

}  // namespace plumetrace
