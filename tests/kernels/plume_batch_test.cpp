// Tests for plume_sensitivity_batch's two code paths: the explicit AVX-512 one (ISC3 rural, on
// CPUs that have AVX-512F/DQ) and the portable one (target_clones / plain C++), against each
// other and against the scalar reference gaussian_plume_g_m3 with dispersion_sigmas.

#include "plumetrace/kernels/plume.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

namespace plumetrace::detail {
// Test hooks defined in src/kernels/plume_batch.cpp (not part of the public header).
bool plume_batch_uses_avx512(SigmaScheme scheme) noexcept;
void plume_sensitivity_batch_portable(const double* dx_m, const double* dy_m, const double* z_m,
                                      std::size_t n, double wind_dir_rad, double u_m_s,
                                      double h_eff_m, SigmaScheme scheme, Stability s,
                                      double zi_m, double* out_s_m3) noexcept;
}  // namespace plumetrace::detail

namespace plumetrace {
namespace {

constexpr Stability kAll[] = {Stability::A, Stability::B, Stability::C,
                              Stability::D, Stability::E, Stability::F};

struct Receptors {
  std::vector<double> dx, dy, z;
};

/// n receptors around the source: a third within 200 m (steep σ growth, large Gaussian
/// exponents), the rest within 20 km; heights 0..zmax m.
Receptors make_receptors(std::size_t n, double zmax, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> pos(-20000.0, 20000.0);
  std::uniform_real_distribution<double> hz(0.0, zmax);
  Receptors r;
  r.dx.resize(n);
  r.dy.resize(n);
  r.z.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double scale = (i % 3 == 0) ? 0.01 : 1.0;
    r.dx[i] = pos(rng) * scale;
    r.dy[i] = pos(rng) * scale;
    r.z[i] = hz(rng);
  }
  return r;
}

double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }

struct Case {
  double dir, u, h, zi;
  double ref_tol = 5e-12;  // batch vs scalar reference (relative)
};

/// Runs both paths and the scalar reference on receptors [off, off + n) (off shifts the
/// arrays' alignment: the AVX-512 path peels receptors up to a 64-byte boundary) and checks
/// path vs path < 1e-12 and batch vs reference < c.ref_tol (relative, where the reference is
/// > 1e-250; below, all three must be <= 1e-250). Returns the number of nonzero references.
int compare(const Receptors& r, std::size_t off, std::size_t n, SigmaScheme sch, Stability s,
            const Case& c, double* worst_paths) {
  std::vector<double> fast(n, -1.0);
  std::vector<double> port(n, -1.0);
  plume_sensitivity_batch(r.dx.data() + off, r.dy.data() + off, r.z.data() + off, n, c.dir, c.u,
                          c.h, sch, s, c.zi, fast.data());
  detail::plume_sensitivity_batch_portable(r.dx.data() + off, r.dy.data() + off,
                                           r.z.data() + off, n, c.dir, c.u, c.h, sch, s, c.zi,
                                           port.data());
  const double sn = std::sin(c.dir);
  const double cs = std::cos(c.dir);
  int nonzero = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = off + i;
    const double x = -(r.dx[j] * sn + r.dy[j] * cs);
    const double y = r.dx[j] * cs - r.dy[j] * sn;
    const double ref = gaussian_plume_g_m3(1.0, c.u, x, y, r.z[j], c.h, sch, s, c.zi);
    if (ref < 1e-250) {
      EXPECT_LE(std::abs(fast[i]), 1e-250) << "i " << i << " ref " << ref;
      EXPECT_LE(std::abs(port[i]), 1e-250) << "i " << i << " ref " << ref;
      continue;
    }
    ++nonzero;
    const double d = rel(fast[i], port[i]);
    *worst_paths = std::max(*worst_paths, d);
    EXPECT_LT(d, 1e-12) << "scheme " << static_cast<int>(sch) << " class " << static_cast<int>(s)
                        << " h " << c.h << " zi " << c.zi << " x " << x << " y " << y << " z "
                        << r.z[j] << ": " << fast[i] << " vs portable " << port[i];
    EXPECT_LT(rel(fast[i], ref), c.ref_tol) << "x " << x << " y " << y << " z " << r.z[j];
    EXPECT_LT(rel(port[i], ref), c.ref_tol) << "x " << x << " y " << y << " z " << r.z[j];
  }
  return nonzero;
}

TEST(PlumeBatchPaths, AgreeWithEachOtherAndTheScalarReference) {
  if (!detail::plume_batch_uses_avx512(SigmaScheme::Isc3Rural)) {
    std::printf("note: no AVX-512 on this CPU (or not an x86-64 GCC build): both calls take the "
                "portable path\n");
  }
  const Receptors r = make_receptors(3001, 60.0, 7);  // > 5 super-blocks of 512, odd tail
  // No lid, lid far above, lid where the |n| = 1 images matter (near the lid, far downwind),
  // low lid (n = 2 images, well mixed), plume above the lid, receptors above the lid (z up to
  // 60 m > zi = 45 m), zero wind (clamped).
  // With the plume and receptors both just below the lid (h = 35 m, zi = 45 m) the batch
  // kernel's rule "the n = 1 lid image beyond 8.5 σz is negligible" (shared by both paths and by
  // scripts/plume_numpy.py) holds relative to the plume's peak but not to the direct term at a
  // receptor far below the centreline: up to ~3e-10 from the full image sum there.
  const Case cases[] = {
      {2.3, 3.5, 40.0, 0.0},
      {0.7, 4.0, 30.0, std::numeric_limits<double>::infinity()},
      {0.7, 4.0, 30.0, 800.0},
      {5.1, 2.0, 20.0, 300.0},
      {1.2, 6.0, 10.0, 120.0},
      {4.0, 3.0, 35.0, 45.0, 1e-9},
      {3.3, 5.0, 300.0, 250.0},
      {0.1, 0.0, 0.0, 1500.0},
  };
  int nonzero = 0;
  double worst = 0.0;
  for (SigmaScheme sch : {SigmaScheme::Isc3Rural, SigmaScheme::BriggsRural, SigmaScheme::BriggsUrban}) {
    for (Stability s : kAll) {
      for (const Case& c : cases) {
        nonzero += compare(r, 0, r.dx.size(), sch, s, c, &worst);
      }
    }
  }
  std::printf("AVX-512 vs portable: worst relative difference %.3g over %d nonzero values\n",
              worst, nonzero);
  EXPECT_GT(nonzero, 100000);
}

TEST(PlumeBatchPaths, AnyAlignmentAndLength) {
  // Lengths around the chunk (8) and super-block (512) sizes, at every 8-byte offset within a
  // cache line.
  const Receptors r = make_receptors(1200, 15.0, 11);
  const Case c{0.9, 3.0, 12.0, 600.0};
  double worst = 0.0;
  int nonzero = 0;
  for (std::size_t off = 0; off < 8; ++off) {
    for (std::size_t n : {1u, 7u, 8u, 9u, 15u, 63u, 511u, 512u, 513u, 1024u, 1100u}) {
      nonzero += compare(r, off, n, SigmaScheme::Isc3Rural, Stability::D, c, &worst);
    }
  }
  EXPECT_GT(nonzero, 1000);
}

TEST(PlumeBatchPaths, UpwindAndSourceAreZeroAndNothingElseIsWritten) {
  // Wind from the north (0 rad): south (dy < 0) is downwind. Upwind, crosswind (x = 0) and the
  // source point itself give 0; the array past n is untouched.
  const double dx[] = {0.0, 0.0, 500.0, 0.0, 0.0, -300.0, 10.0, 0.0, 0.0, 0.0};
  const double dy[] = {-100.0, 100.0, 0.0, 0.0, -2000.0, -300.0, 50.0, -5.0, -50000.0, -30.0};
  const double z[] = {0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0};
  double out[11];
  for (double& v : out) v = -7.0;
  plume_sensitivity_batch(dx, dy, z, 10, 0.0, 5.0, 10.0, SigmaScheme::Isc3Rural, Stability::C, 900.0, out);
  for (int i : {1, 2, 3, 6}) EXPECT_EQ(out[i], 0.0) << i;
  for (int i : {0, 4, 5, 7, 8, 9}) EXPECT_GT(out[i], 0.0) << i;
  EXPECT_EQ(out[10], -7.0);
  for (int i = 0; i < 10; ++i) {
    const double x = -dy[i];
    const double y = dx[i];
    const double ref = gaussian_plume_g_m3(1.0, 5.0, x, y, z[i], 10.0, SigmaScheme::Isc3Rural,
                                           Stability::C, 900.0);
    if (ref > 1e-250) {
      EXPECT_LT(rel(out[i], ref), 5e-12) << i;
    }
  }
}

}  // namespace
}  // namespace plumetrace
