/// @file plume_batch.cpp
/// plume_sensitivity_batch: one source, many receptors, in blocks the compiler vectorises.
///
/// Why it is fast: the loop body is branch-free and calls only inline polynomial exp/log/tan
/// (below), so GCC vectorises it; the function is compiled for several x86-64 levels
/// (target_clones: AVX-512, AVX2+FMA, baseline SSE2) and the loader picks the best. Receptors for
/// which the two-term (ground + direct) vertical form is not accurate — lid images within
/// 8.5 σz of the receptor, the well-mixed limit, receptors or plume above the lid — are
/// handled afterwards: by a vectorised pass with the |n| = 1 lid images where those suffice,
/// else by the scalar reference (gaussian_plume_g_m3).

#include <bit>
#include <cmath>
#include <cstdint>

#include "isc3_tables.hpp"
#include "plumetrace/kernels/plume.hpp"

namespace plumetrace {

namespace {

#define PT_INLINE inline __attribute__((always_inline))

// Kernel functions: compiled for AVX-512, AVX2+FMA and baseline x86-64; the loader picks one.
// Only the AVX-512 clone vectorises every loop: elsewhere GCC 12 (under the default
// -ftrapping-math) will not if-convert the clamps once PRE has split their paths.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define PT_KERNEL_ATTRS \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PT_KERNEL_ATTRS
#endif

constexpr double kShifter = 0x1.8p52;

/// exp(x), relative error < 4e-16 for x in [-600, 709]; exactly 0 below -600 (true value
/// < 3e-261: flushing there keeps every later product clear of subnormals, which are slow).
/// Branch-free (the zeroing is a multiply by a 0/1 select) so it vectorises without masking.
PT_INLINE double exp_poly(double x) noexcept {
  const double keep = (x >= -600.0) ? 1.0 : 0.0;
  x = (x < -600.0) ? -600.0 : x;
  x = (x > 709.0) ? 709.0 : x;
  const double kd = x * 1.4426950408889634 + kShifter;  // round(x / ln2) in the low bits
  const double k = kd - kShifter;
  double r = x - k * 6.93147180369123816490e-01;  // ln2 hi
  r = r - k * 1.90821492927058770002e-10;          // ln2 lo
  // Taylor to degree 12 on |r| <= 0.347: truncation < 2e-16.
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const std::uint64_t ki = std::bit_cast<std::uint64_t>(kd);
  const double scale = std::bit_cast<double>((ki + 1023u) << 52);
  return p * scale * keep;
}

/// log(x) for positive normal x, relative error < 4e-16 (away from x = 1, absolute < 2e-16 there).
PT_INLINE double log_poly(double x) noexcept {
  constexpr std::uint64_t kSqrtHalfBits = 0x3FE6A09E667F3BCDull;  // bits of sqrt(0.5)
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const std::uint64_t ix = bits - kSqrtHalfBits;
  const std::uint64_t kb = (ix + (1024ull << 52)) >> 52;  // exponent + 1024 (small, >= 0)
  const double k = std::bit_cast<double>(kb | 0x4330000000000000ull) - 0x1p52 - 1024.0;
  const double m = std::bit_cast<double>((ix & 0x000FFFFFFFFFFFFFull) + kSqrtHalfBits);  // [√½, √2)
  const double f = m - 1.0;
  const double s = f / (2.0 + f);  // |s| <= 0.1716
  const double s2 = s * s;
  double p = 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  const double log_m = 2.0 * s + 2.0 * s * s2 * p;
  return k * 6.93147180369123816490e-01 + (log_m + k * 1.90821492927058770002e-10);
}

/// sin(t)/t and cos(t) for |t| <= 0.8 (ISC3's TH stays within [0.03, 0.73] rad for x in
/// [1 m, 100 km]) as Taylor polynomials (truncation < 1e-16); tan = t·sinc/cos.
PT_INLINE void sinc_cos_poly(double t, double& sinc, double& cosv) noexcept {
  const double t2 = t * t;
  // sin t / t = 1 - t²/3! + t⁴/5! - ... - t¹⁴/15!
  double sp = -1.0 / 1307674368000.0;
  sp = sp * t2 + 1.0 / 6227020800.0;
  sp = sp * t2 - 1.0 / 39916800.0;
  sp = sp * t2 + 1.0 / 362880.0;
  sp = sp * t2 - 1.0 / 5040.0;
  sp = sp * t2 + 1.0 / 120.0;
  sp = sp * t2 - 1.0 / 6.0;
  sp = sp * t2 + 1.0;
  // cos t = 1 - t²/2! + ... + t¹⁶/16!
  double cp = 1.0 / 20922789888000.0;
  cp = cp * t2 - 1.0 / 87178291200.0;
  cp = cp * t2 + 1.0 / 479001600.0;
  cp = cp * t2 - 1.0 / 3628800.0;
  cp = cp * t2 + 1.0 / 40320.0;
  cp = cp * t2 - 1.0 / 720.0;
  cp = cp * t2 + 1.0 / 24.0;
  cp = cp * t2 - 0.5;
  cp = cp * t2 + 1.0;
  sinc = sp;
  cosv = cp;
}

constexpr std::size_t kBlock = 256;
constexpr double kInvTwoPi = 0.15915494309189535;

/// Per-call constants (hoisted out of the blocks).
struct BatchParams {
  double sin_dir;
  double cos_dir;
  double u;
  double h;
  SigmaScheme scheme;
  int cls;
  bool lid;
  double zi;
  // ISC3 class coefficients: TH = thc - thd ln x_km; σz segments padded to 10 (repeating the
  // last) so the selection loop has a fixed trip count.
  double thc;
  double thd;
  double ln_bound[10];
  double ln_a[10];
  double b[10];
  int nseg;
};

/// 1/σy and 1/σz (ISC3 rural) for a block, with kSeg σz segments (Table 1-2 of the class).
template <int kSeg>
PT_INLINE void isc3_inverse_sigmas(const double* __restrict xd, const BatchParams& bp,
                                   double* __restrict isy, double* __restrict isz) noexcept {
    const double thc = bp.thc;
    const double thd = bp.thd;
    const double ln_cap = std::log(kIsc3SigmaZCapM);
    double ln_bound[10];  // local copies: the vectoriser if-converts selects from local arrays
    double ln_a[10];
    double b[10];
    for (int j = 0; j < 10; ++j) {
      ln_bound[j] = bp.ln_bound[j];
      ln_a[j] = bp.ln_a[j];
      b[j] = bp.b[j];
    }
    for (std::size_t i = 0; i < kBlock; ++i) {
      const double x_km = ((xd[i] >= 1.0) ? xd[i] : 1.0) * 1e-3;
      const double lx = log_poly(x_km);
      // σy = 465.11628 x tan(th)  =>  1/σy = cos(th) / (465.11628 x th sinc(th)): one division.
      const double th = thc - thd * lx;
      double sinc;
      double cosv;
      sinc_cos_poly(th, sinc, cosv);
      isy[i] = cosv / (465.11628 * x_km * th * sinc);
      double la = ln_a[0];
      double bb = b[0];
      for (int j = 1; j < kSeg; ++j) {
        const bool beyond = lx > ln_bound[j - 1];
        la = beyond ? ln_a[j] : la;
        bb = beyond ? b[j] : bb;
      }
      double ln_sz = la + bb * lx;
      ln_sz = (ln_sz < ln_cap) ? ln_sz : ln_cap;  // σz <= 5000 m
      isz[i] = exp_poly(-ln_sz);
    }
}

/// One block of exactly kBlock receptors (the caller pads the tail). Fills out[] (two-term
/// vertical form), slow[] (0 done, 1 needs the |n| = 1 image pass, 2 needs the scalar
/// reference), and ay_out[] (lateral exponent -y²/2σy²), isy_out[] = 1/σy, isz_out[] = 1/σz.
/// Returns the sum of slow[] (0: nothing to fix up).
/// Written branch-free (bitwise &, | on comparisons) so that it also vectorises without AVX-512.
PT_KERNEL_ATTRS
double batch_block(const double* __restrict dx, const double* __restrict dy,
                 const double* __restrict zr, const BatchParams& bp, double* __restrict out,
                 double* __restrict ay_out, double* __restrict isy_out,
                 double* __restrict isz_out, double* __restrict slow) noexcept {
  const double sn = bp.sin_dir;
  const double cs = bp.cos_dir;
  const double h = bp.h;
  const double coef0 = kInvTwoPi / bp.u;
  double isy[kBlock];
  double isz[kBlock];
  double xd[kBlock];
  double yc[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) {
    // Downwind unit vector is (-sin θ, -cos θ) for a wind from θ (clockwise from north).
    xd[i] = -(dx[i] * sn + dy[i] * cs);
    yc[i] = dx[i] * cs - dy[i] * sn;
  }
  if (bp.scheme == SigmaScheme::Isc3Rural) {
    switch (bp.nseg) {  // class-specific segment counts: D compares 5 times, not 9
      case 1: isc3_inverse_sigmas<1>(xd, bp, isy, isz); break;
      case 3: isc3_inverse_sigmas<3>(xd, bp, isy, isz); break;
      case 6: isc3_inverse_sigmas<6>(xd, bp, isy, isz); break;
      case 8: isc3_inverse_sigmas<8>(xd, bp, isy, isz); break;
      case 9: isc3_inverse_sigmas<9>(xd, bp, isy, isz); break;
      default: isc3_inverse_sigmas<10>(xd, bp, isy, isz); break;
    }
  } else {
    for (std::size_t i = 0; i < kBlock; ++i) {
      const Sigmas sg = dispersion_sigmas(bp.scheme, static_cast<Stability>(bp.cls), xd[i]);
      isy[i] = 1.0 / sg.y_m;
      isz[i] = 1.0 / sg.z_m;
    }
  }
  const double lidf = bp.lid ? 1.0 : 0.0;
  const double zi = bp.zi;
  const double h_above = (h > zi) ? 1.0 : 0.0;
  double flagged = 0.0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    const double z = zr[i];
    const double inv_sy = isy[i];
    const double inv_sz = isz[i];
    const double ay = -0.5 * yc[i] * yc[i] * inv_sy * inv_sy;
    const double iz = 0.5 * inv_sz * inv_sz;
    const double dm = z - h;
    const double dp = z + h;
    const double t = exp_poly(ay - dm * dm * iz) + exp_poly(ay - dp * dp * iz);
    const double c = coef0 * inv_sy * inv_sz * t;
    const bool downwind = xd[i] > 0.0;
    out[i] = downwind ? c : 0.0;
    // The nearest lid image (n = 1) is 2 zi - z - h away; beyond 8.5 σz it weighs < exp(-36) of
    // the direct term and the two-term form is exact to rounding. Else, when the nearest n = 2
    // image (4 zi - z - h away) is beyond 8.5 σz, the image pass with |n| <= 1 is; otherwise the
    // scalar reference (more images, or the well-mixed limit). Receptors or plume above the lid:
    // the scalar reference.
    const double outside = (z > zi) ? 1.0 : h_above;
    const double near1 = ((2.0 * zi - z - h) * inv_sz < 8.5) ? 1.0 : 0.0;
    const double near2 = ((4.0 * zi - z - h) * inv_sz < 8.5) ? 1.0 : 0.0;
    const double kind = (outside > 0.0) ? 2.0 : near1 + near2;
    const double flag = downwind ? kind * lidf : 0.0;
    slow[i] = flag;
    flagged += flag;
    ay_out[i] = ay;
    isy_out[i] = inv_sy;
    isz_out[i] = inv_sz;
  }
  return flagged;
}

/// Image pass for the receptors flagged 1: vertical image sum n = -1..1 (six terms), written as
/// q = 1 concentration. Inputs are compacted arrays of length m.
PT_KERNEL_ATTRS
void image_pass(std::size_t m, const double* __restrict ay, const double* __restrict isy,
                const double* __restrict isz, const double* __restrict zr, double h, double zi,
                double u, double* __restrict out) noexcept {
  const double coef0 = kInvTwoPi / u;
  for (std::size_t i = 0; i < m; ++i) {
    const double iz = 0.5 * isz[i] * isz[i];
    const double dm = zr[i] - h;
    const double dp = zr[i] + h;
    double t = 0.0;
    for (int n = -1; n <= 1; ++n) {
      const double off = 2.0 * n * zi;
      const double a = dm + off;
      const double b = dp + off;
      t += exp_poly(ay[i] - a * a * iz) + exp_poly(ay[i] - b * b * iz);
    }
    out[i] = coef0 * isy[i] * isz[i] * t;
  }
}

}  // namespace

void plume_sensitivity_batch(const double* dx_m, const double* dy_m, const double* z_m,
                             std::size_t n, double wind_dir_rad, double u_m_s, double h_eff_m,
                             SigmaScheme scheme, Stability s, double zi_m,
                             double* out_s_m3) noexcept {
  if (n == 0) return;
  BatchParams bp{};
  bp.sin_dir = std::sin(wind_dir_rad);
  bp.cos_dir = std::cos(wind_dir_rad);
  bp.u = (u_m_s >= kMinWindSpeedMS) ? u_m_s : kMinWindSpeedMS;
  bp.h = h_eff_m;
  bp.scheme = scheme;
  const int cls = static_cast<int>(s);
  bp.cls = (cls >= 0 && cls <= 5) ? cls : 3;
  bp.lid = zi_m > 0.0 && std::isfinite(zi_m);
  bp.zi = zi_m;
  if (scheme == SigmaScheme::Isc3Rural) {
    const Isc3SigmaYCoef& ky = kIsc3SigmaY[bp.cls];
    const Isc3SigmaZClass& kz = kIsc3SigmaZ[bp.cls];
    bp.thc = 0.017453293 * ky.c;
    bp.thd = 0.017453293 * ky.d;
    bp.nseg = kz.n;
    for (int j = 0; j < 10; ++j) {
      const int jj = (j < kz.n) ? j : kz.n - 1;
      bp.ln_bound[j] = (j + 1 < kz.n) ? std::log(kz.seg[jj].x_max_km) : 1e300;
      bp.ln_a[j] = std::log(kz.seg[jj].a);
      bp.b[j] = kz.seg[jj].b;
    }
  }

  // Receptors are processed in blocks of kBlock *downwind* receptors: upwind ones (typically
  // half of them) are set to 0 here and never reach the math. The compaction is branch-free.
  const double sn = bp.sin_dir;
  const double cs = bp.cos_dir;
  alignas(64) double bx[kBlock];
  alignas(64) double by[kBlock];
  alignas(64) double bz[kBlock];
  alignas(64) double bo[kBlock];
  alignas(64) double bay[kBlock];
  alignas(64) double bisy[kBlock];
  alignas(64) double bisz[kBlock];
  alignas(64) double cay[kBlock];
  alignas(64) double cisy[kBlock];
  alignas(64) double cisz[kBlock];
  alignas(64) double cz[kBlock];
  alignas(64) double cout[kBlock];
  alignas(64) double slow[kBlock];
  std::size_t src[kBlock + 1];
  unsigned short idx[kBlock];
  std::size_t i = 0;
  while (i < n) {
    std::size_t k = 0;
    for (; i < n && k < kBlock; ++i) {
      out_s_m3[i] = 0.0;
      bx[k] = dx_m[i];
      by[k] = dy_m[i];
      bz[k] = z_m[i];
      src[k] = i;
      k += (-(dx_m[i] * sn + dy_m[i] * cs) > 0.0) ? 1 : 0;
    }
    if (k == 0) continue;
    for (std::size_t j = k; j < kBlock; ++j) {  // pad: at the source, i.e. not downwind -> 0
      bx[j] = 0.0;
      by[j] = 0.0;
      bz[j] = 0.0;
    }
    const double flagged = batch_block(bx, by, bz, bp, bo, bay, bisy, bisz, slow);
    for (std::size_t j = 0; j < k; ++j) out_s_m3[src[j]] = bo[j];
    if (flagged == 0.0) continue;
    std::size_t nimg = 0;
    for (std::size_t j = 0; j < k; ++j) {
      if (slow[j] == 1.0) {
        idx[nimg] = static_cast<unsigned short>(j);
        cay[nimg] = bay[j];
        cisy[nimg] = bisy[j];
        cisz[nimg] = bisz[j];
        cz[nimg] = bz[j];
        ++nimg;
      } else if (slow[j] == 2.0) {
        const double y = bx[j] * cs - by[j] * sn;
        const double x = -(bx[j] * sn + by[j] * cs);
        out_s_m3[src[j]] = gaussian_plume_g_m3(1.0, bp.u, x, y, bz[j], h_eff_m, 1.0 / bisy[j],
                                               1.0 / bisz[j], zi_m);
      }
    }
    if (nimg > 0) {
      image_pass(nimg, cay, cisy, cisz, cz, h_eff_m, zi_m, bp.u, cout);
      for (std::size_t q = 0; q < nimg; ++q) out_s_m3[src[idx[q]]] = cout[q];
    }
  }
}

}  // namespace plumetrace
