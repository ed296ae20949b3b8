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
///
/// Two paths: on CPUs with AVX-512F/DQ and for ISC3 rural sigmas, an explicit AVX-512 one
/// (intrinsics, chosen at run time; see "Explicit AVX-512 path" below: vcompresspd/vexpandpd
/// packing, table-driven exp/log, no sin/cos), ~2.3x the portable path on the bench scenario;
/// otherwise the portable one (plain C++, target_clones). Both agree within 1e-12 relative
/// (tests/kernels/plume_batch_test.cpp). Speed: bench/RESULTS.md.

#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's unmasked AVX-512 intrinsics (_mm512_max_pd, _mm512_getexp_pd, ...) pass
// _mm512_undefined_pd() as the merge source and trip -Wmaybe-uninitialized inside the header
// (GCC PR 105593, fixed in 12.3): silenced for the header's own lines only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

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

/// Per-call constants from the public arguments.
BatchParams make_params(double wind_dir_rad, double u_m_s, double h_eff_m, SigmaScheme scheme,
                        Stability s, double zi_m) noexcept {
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

  return bp;
}

/// The portable path: compaction into blocks of kBlock downwind receptors, batch_block, then
/// the image pass and scalar reference for the flagged ones (any CPU, any scheme).
void portable_batch(const double* dx_m, const double* dy_m, const double* z_m, std::size_t n,
                    const BatchParams& bp, double* out_s_m3) noexcept {
  const double h_eff_m = bp.h;
  const double zi_m = bp.zi;
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


// ---- Explicit AVX-512 path ------------------------------------------------------------------
// For ISC3 rural sigmas on CPUs with AVX-512F/DQ (chosen at run time; the code above stays the
// path for other CPUs and for the Briggs schemes). Per call, in super-blocks of kIn receptors:
//   1. compaction: 8 receptors at a time, rotate to (downwind, crosswind) and pack the downwind
//      ones with vcompresspd (into a register, then one unaligned store), keeping the 8-bit mask;
//   2. math on the packed receptors, two vectors of 8 lanes per iteration, in registers; the
//      positions of the few lanes that need the |n| = 1 lid images are packed (vpcompressq)
//      and those lanes done in a second, equally dense pass;
//   3. expansion: vexpandpd with the saved masks writes the results in place, 0 upwind.
// Same formula, vertical-term selection and fallbacks as the portable path; its own exp/log/tan
// (table-driven, no per-lane branches), accurate to a few ulp like the portable ones.
#if defined(__x86_64__) && defined(__GNUC__)
#define PT_HAVE_AVX512_PATH 1
#define PT_AVX512 __attribute__((target("avx512f,avx512dq,popcnt")))
#define PT_AVX512_INLINE inline __attribute__((always_inline, target("avx512f,avx512dq,popcnt")))

using V8 = __m512d;

constexpr std::size_t kSuper = 512;  // receptors per super-block: the packed arrays stay in L1

PT_AVX512_INLINE V8 splat(double c) noexcept { return _mm512_set1_pd(c); }

/// exp8 table: bit patterns of 2^(j/16) (correctly rounded), j = 0..15, less j << 48, so that
/// adding K << 48 (K = 16 K' + j) yields 2^(j/16) with K' added to its exponent field.
alignas(64) constexpr std::uint64_t kExp2SixteenthsBits[16] = {
    0x3ff0000000000000ull, 0x3fefb5586cf9890full, 0x3fef72b83c7d517bull, 0x3fef387a6e756238ull,
    0x3fef06fe0a31b715ull, 0x3feedea64c123422ull, 0x3feebfdad5362a27ull, 0x3feeab07dd485429ull,
    0x3feea09e667f3bcdull, 0x3feea11473eb0187ull, 0x3feeace5422aa0dbull, 0x3feec49182a3f090ull,
    0x3feee89f995ad3adull, 0x3fef199bdd85529cull, 0x3fef5818dcfba487ull, 0x3fefa4afa2a490daull};

struct ExpTable {
  __m512i lo;
  __m512i hi;
};

PT_AVX512_INLINE ExpTable load_exp_table() noexcept {
  return {_mm512_load_si512(kExp2SixteenthsBits), _mm512_load_si512(kExp2SixteenthsBits + 8)};
}

/// exp(x), 8 lanes, for x <= 709 (callers pass Gaussian exponents <= 0 and -ln σz < 3):
/// x = K ln2/16 + r with |r| <= ln2/32 (0.0217), K = 16 K' + j; 2^(j/16) from the table
/// (vpermt2q), 2^K' through its exponent field, exp(r) by Taylor to degree 7 (truncation
/// < 2e-18). Relative error < 3e-16. Exactly 0 for x < -600 (as exp_poly; NaN also gives 0):
/// those lanes are zeroed by the mask, so their out-of-range exponent bits never matter.
PT_AVX512_INLINE V8 exp8(V8 x, const ExpTable& tab) noexcept {
  const __mmask8 keep = _mm512_cmp_pd_mask(x, splat(-600.0), _CMP_GE_OQ);
  // K = round(x 16/ln2) sits in the low mantissa bits of kd (|K| < 2^51 for the kept lanes).
  const V8 kd = _mm512_fmadd_pd(x, splat(23.083120654223414), splat(kShifter));
  const V8 k = _mm512_sub_pd(kd, splat(kShifter));
  V8 r = _mm512_fnmadd_pd(k, splat(0.04332169877307024), x);  // ln2_hi/16: k·hi exact (32-bit hi)
  r = _mm512_fnmadd_pd(k, splat(1.1926343307941173e-11), r);   // ln2_lo/16
  // (exp(r) - 1)/r = 1 + r/2! + ... + r⁶/7!, in Estrin's scheme: the loop is bound by latency
  // (long dependent chains per lane), not by the FMA count.
  const V8 r2 = _mm512_mul_pd(r, r);
  const V8 r4 = _mm512_mul_pd(r2, r2);
  const V8 p01 = _mm512_fmadd_pd(r, splat(1.0 / 2.0), splat(1.0));
  const V8 p23 = _mm512_fmadd_pd(r, splat(1.0 / 24.0), splat(1.0 / 6.0));
  const V8 p45 = _mm512_fmadd_pd(r, splat(1.0 / 720.0), splat(1.0 / 120.0));
  const V8 p46 = _mm512_fmadd_pd(r2, splat(1.0 / 5040.0), p45);
  V8 p = _mm512_fmadd_pd(r4, p46, _mm512_fmadd_pd(r2, p23, p01));
  p = _mm512_mul_pd(p, r);  // exp(r) - 1, added below as s + s·p (one rounding fewer than s·(1+p))
  const __m512i ki = _mm512_castpd_si512(kd);
  // The shifter's bits (all above bit 15) vanish from ki << 48, leaving K << 48.
  const __m512i t = _mm512_permutex2var_epi64(tab.lo, ki, tab.hi);  // uses ki & 15 = j
  const V8 s = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64(ki, 48)));
  return _mm512_maskz_fmadd_pd(keep, s, p, s);
}

/// log8 table: for mantissas m in [1 + j/16, 1 + (j+1)/16), invc = 1/c rounded to double with
/// c = 1 + (j + 1/2)/16 the interval's midpoint, and ln(1/invc) correctly rounded.
alignas(64) constexpr double kLogInvC[16] = {
    0.9696969696969697, 0.9142857142857143, 0.8648648648648649, 0.8205128205128205,
    0.7804878048780488, 0.7441860465116279, 0.7111111111111111, 0.6808510638297872,
    0.6530612244897959, 0.6274509803921569, 0.6037735849056604, 0.5818181818181818,
    0.5614035087719298, 0.5423728813559322, 0.5245901639344263, 0.5079365079365079};
alignas(64) constexpr double kLogLnC[16] = {
    0.03077165866675366, 0.08961215868968717, 0.14518200984449783, 0.19782574332991992,
    0.2478361639045812, 0.2954642128938359, 0.3409265869705932, 0.38441169891033206,
    0.42608439531090014, 0.46608972992459924, 0.5045560107523953, 0.5415972824327444,
    0.5773153650348236, 0.6118015411059929, 0.6451379613735847, 0.6773988235918061};

/// ln(x), 8 lanes, for positive normal x: x = 2^e m, m in [1, 2); ln x = e ln2 + ln c +
/// log1p(m invc - 1) with c from the table (|m invc - 1| <= 0.031) and log1p by Taylor to degree
/// 9 (truncation < 7e-17). No division. Absolute error < 2e-16 plus the final rounding.
PT_AVX512_INLINE V8 log8(V8 x, V8 invc_lo, V8 invc_hi, V8 lnc_lo, V8 lnc_hi) noexcept {
  const V8 e = _mm512_getexp_pd(x);                                         // floor(log2 x)
  const V8 m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);  // [1, 2)
  const __m512i j = _mm512_srli_epi64(_mm512_castpd_si512(x), 48);  // low 4 bits: mantissa top
  const V8 invc = _mm512_permutex2var_pd(invc_lo, j, invc_hi);
  const V8 lnc = _mm512_permutex2var_pd(lnc_lo, j, lnc_hi);
  const V8 r = _mm512_fmsub_pd(m, invc, splat(1.0));  // one rounding: relative error 2^-53 of r
  // log1p(r) = r + r² q(r), q = -1/2 + r/3 - r²/4 + ... + r⁷/9 (Estrin's scheme, as in exp8)
  const V8 r2 = _mm512_mul_pd(r, r);
  const V8 r4 = _mm512_mul_pd(r2, r2);
  const V8 q01 = _mm512_fmadd_pd(r, splat(1.0 / 3.0), splat(-0.5));
  const V8 q23 = _mm512_fmadd_pd(r, splat(1.0 / 5.0), splat(-1.0 / 4.0));
  const V8 q45 = _mm512_fmadd_pd(r, splat(1.0 / 7.0), splat(-1.0 / 6.0));
  const V8 q67 = _mm512_fmadd_pd(r, splat(1.0 / 9.0), splat(-1.0 / 8.0));
  const V8 q = _mm512_fmadd_pd(r4, _mm512_fmadd_pd(r2, q67, q45), _mm512_fmadd_pd(r2, q23, q01));
  const V8 lo = _mm512_fmadd_pd(e, splat(1.90821492927058770002e-10), _mm512_fmadd_pd(r2, q, r));
  const V8 hi = _mm512_fmadd_pd(e, splat(6.93147180369123816490e-01), lnc);  // e·ln2_hi exact
  return _mm512_add_pd(hi, lo);
}

/// 1/tan(t) · t for |t| <= 0.8 as D(t²)/N(t²): Lambert's continued fraction
/// tan t = t/(1 - t²/(3 - t²/(5 - ... t²/17))) as a ratio of two quartics in t² (truncation
/// < 2e-18 on |t| <= 0.8, evaluated to < 3e-16), so 1/σy needs no sin or cos. Returns N and D.
PT_AVX512_INLINE void tan_ratio8(V8 t, V8& num, V8& den) noexcept {
  const V8 s = _mm512_mul_pd(t, t);
  const V8 s2 = _mm512_mul_pd(s, s);
  // Estrin's scheme (as in exp8): n = (1 + n1 s) + s² (n2 + n3 s + n4 s²), likewise d.
  const V8 n01 = _mm512_fmadd_pd(s, splat(-0.13725490196078433), splat(1.0));
  const V8 n23 = _mm512_fmadd_pd(s, splat(-2.8729440494146376e-05), splat(0.00392156862745098));
  const V8 n24 = _mm512_fmadd_pd(s2, splat(2.901963686277412e-08), n23);
  const V8 d01 = _mm512_fmadd_pd(s, splat(-0.47058823529411764), splat(1.0));
  const V8 d23 = _mm512_fmadd_pd(s, splat(-0.00040221216691804925), splat(0.027450980392156862));
  const V8 d24 = _mm512_fmadd_pd(s2, splat(1.3058836588248353e-06), d23);
  num = _mm512_fmadd_pd(s2, n24, n01);  // tan t = t num / den
  den = _mm512_fmadd_pd(s2, d24, d01);
}

/// Coefficients (ln a, b) of the σz power law by segment index 0..15 (past the class's last
/// segment: repeats of it), for selection by vpermpd / vpermt2pd.
struct SegTables {
  V8 la_lo, la_hi, b_lo, b_hi;
};

/// Per packed receptor quantities kept for the image pass (q = 1), and the packed positions
/// (indices into res) of the receptors that need the |n| = 1 lid images.
struct ImageLanes {
  alignas(64) double ay[kSuper + 8];    // lateral exponent -y²/2σy²
  alignas(64) double iz[kSuper + 8];    // 1/2σz² (1/m²)
  alignas(64) double t0[kSuper + 8];    // two-term vertical sum
  alignas(64) double coef[kSuper + 8];  // 1/(2π u σy σz) (s/m³)
  alignas(64) std::int64_t pos[kSuper + 8];  // +8: each append stores a whole register
  std::size_t count;
};

/// Per-call constants of the math, in registers.
template <int kSeg>
struct MathConsts {
  ExpTable tab;
  V8 invc_lo, invc_hi, lnc_lo, lnc_hi;  // log8 tables
  V8 thc, thd, ln_cap, hv, coef0, zi, reach1, reach2;
  V8 ln_bound[kSeg];  // in registers: res stores could alias bp, which would force reloads
  SegTables seg;
  __mmask8 lid;          // 0xFF with a lid, else 0
  __mmask8 all_outside;  // 0xFF when the plume is above the lid
};

/// Packed receptors i..i+7 (lanes `valid`; `lane` = i + 0..7): res[i..i+7] = concentration
/// per unit emission (s/m³) with the two-term vertical form; the lanes that need the |n| = 1
/// lid images are appended to img.pos (their quantities kept in img). Returns the lanes that
/// need the scalar reference instead (and 1/σy, 1/σz for them). Branch-free, so that two calls
/// in a row form one basic block the compiler can interleave (the chains are long: log, tan,
/// division, exp).
template <int kSeg>
PT_AVX512_INLINE __mmask8 math_vec(const MathConsts<kSeg>& mc, const double* __restrict xd,
                                   const double* __restrict yc, const double* __restrict zr,
                                   std::size_t i, __m512i lane, __mmask8 valid,
                                   double* __restrict res, ImageLanes& img, V8& inv_sy_out,
                                   V8& inv_sz_out) noexcept {
  const V8 x = _mm512_load_pd(xd + i);
  const V8 y = _mm512_load_pd(yc + i);
  const V8 z = _mm512_load_pd(zr + i);
  // σy, σz (ISC3 rural, as isc3_inverse_sigmas): x_km = max(x, 1 m)/1000, lx = ln x_km,
  // TH = thc - thd lx, σy = 465.11628 x_km tan TH, σz = min(a x_km^b, 5000 m).
  const V8 x_km = _mm512_mul_pd(_mm512_max_pd(x, splat(1.0)), splat(1e-3));
  const V8 lx = log8(x_km, mc.invc_lo, mc.invc_hi, mc.lnc_lo, mc.lnc_hi);
  const V8 th = _mm512_fnmadd_pd(mc.thd, lx, mc.thc);
  V8 tn;
  V8 td;
  tan_ratio8(th, tn, td);
  const V8 inv_sy = _mm512_div_pd(
      td, _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(splat(465.11628), x_km), th), tn));
  // Segment = number of (inclusive) upper bounds below x; then (ln a, b) by permute.
  __m512i segi = _mm512_setzero_si512();
  for (int s = 0; s + 1 < kSeg; ++s) {
    const __mmask8 beyond = _mm512_cmp_pd_mask(lx, mc.ln_bound[s], _CMP_GT_OQ);
    segi = _mm512_mask_add_epi64(segi, beyond, segi, _mm512_set1_epi64(1));
  }
  V8 la;
  V8 bb;
  if constexpr (kSeg <= 8) {
    la = _mm512_permutexvar_pd(segi, mc.seg.la_lo);
    bb = _mm512_permutexvar_pd(segi, mc.seg.b_lo);
  } else {
    la = _mm512_permutex2var_pd(mc.seg.la_lo, segi, mc.seg.la_hi);
    bb = _mm512_permutex2var_pd(mc.seg.b_lo, segi, mc.seg.b_hi);
  }
  const V8 ln_sz = _mm512_min_pd(_mm512_fmadd_pd(bb, lx, la), mc.ln_cap);  // σz <= 5000 m
  const V8 inv_sz = exp8(_mm512_sub_pd(_mm512_setzero_pd(), ln_sz), mc.tab);
  // Two-term vertical form (ground + direct): exponents -y²/2σy² - (z ∓ h)²/2σz².
  const V8 ys = _mm512_mul_pd(y, inv_sy);
  const V8 ay = _mm512_mul_pd(_mm512_mul_pd(splat(-0.5), ys), ys);
  const V8 iz = _mm512_mul_pd(_mm512_mul_pd(splat(0.5), inv_sz), inv_sz);
  const V8 dm = _mm512_sub_pd(z, mc.hv);
  const V8 dp = _mm512_add_pd(z, mc.hv);
  const V8 t0 = _mm512_add_pd(exp8(_mm512_fnmadd_pd(_mm512_mul_pd(dm, dm), iz, ay), mc.tab),
                              exp8(_mm512_fnmadd_pd(_mm512_mul_pd(dp, dp), iz, ay), mc.tab));
  const V8 coef = _mm512_mul_pd(_mm512_mul_pd(mc.coef0, inv_sy), inv_sz);
  _mm512_store_pd(res + i, _mm512_mul_pd(coef, t0));
  // With a lid: the n = 1 lid image is 2 zi - z - h away, the n = 2 one 4 zi - z - h; beyond
  // 8.5 σz each weighs < exp(-36) of the peak (see batch_block). Receptors above the lid, a
  // plume above it, or a near n = 2 image: the scalar reference. Also branch-free: which
  // vectors hold such lanes is unpredictable.
  const V8 wz = _mm512_mul_pd(z, inv_sz);
  const __mmask8 near1 = _mm512_cmp_pd_mask(_mm512_fmsub_pd(mc.reach1, inv_sz, wz), splat(8.5), _CMP_LT_OQ);
  const __mmask8 near2 = _mm512_cmp_pd_mask(_mm512_fmsub_pd(mc.reach2, inv_sz, wz), splat(8.5), _CMP_LT_OQ);
  const __mmask8 outside = static_cast<__mmask8>(_mm512_cmp_pd_mask(z, mc.zi, _CMP_GT_OQ) | mc.all_outside);
  const __mmask8 use = static_cast<__mmask8>(valid & mc.lid);
  const __mmask8 fallback = static_cast<__mmask8>((outside | near2) & use);
  const __mmask8 images = static_cast<__mmask8>(near1 & ~fallback & use);
  _mm512_store_pd(img.ay + i, ay);
  _mm512_store_pd(img.iz + i, iz);
  _mm512_store_pd(img.t0 + i, t0);
  _mm512_store_pd(img.coef + i, coef);
  _mm512_storeu_si512(img.pos + img.count, _mm512_maskz_compress_epi64(images, lane));
  img.count += static_cast<std::size_t>(__builtin_popcount(images));
  inv_sy_out = inv_sy;
  inv_sz_out = inv_sz;
  return fallback;
}

/// The scalar reference for the lanes in `fallback` of packed receptors i..i+7.
PT_AVX512 __attribute__((noinline)) void fallback_lanes(
    __mmask8 fallback, std::size_t i, V8 inv_sy, V8 inv_sz, const double* xd, const double* yc,
    const double* zr, const BatchParams& bp, double* res) noexcept {
  alignas(64) double sy[8];
  alignas(64) double sz[8];
  _mm512_store_pd(sy, inv_sy);
  _mm512_store_pd(sz, inv_sz);
  for (unsigned l = 0; l < 8; ++l) {
    if ((fallback >> l) & 1u) {
      res[i + l] = gaussian_plume_g_m3(1.0, bp.u, xd[i + l], yc[i + l], zr[i + l], bp.h,
                                       1.0 / sy[l], 1.0 / sz[l], bp.zi);
    }
  }
}

/// Math on k packed downwind receptors (xd: downwind m, yc: crosswind m, zr: height m; each
/// readable and zero-padded up to the next multiple of 8): res[i] = concentration per unit
/// emission (s/m³), except for the lanes appended to img (done by image_pass8).
template <int kSeg>
PT_AVX512 void math_avx512(const double* __restrict xd, const double* __restrict yc,
                           const double* __restrict zr, std::size_t k, const BatchParams& bp,
                           const SegTables& seg, double* __restrict res,
                           ImageLanes& img) noexcept {
  MathConsts<kSeg> mc;
  mc.tab = load_exp_table();
  mc.invc_lo = _mm512_load_pd(kLogInvC);
  mc.invc_hi = _mm512_load_pd(kLogInvC + 8);
  mc.lnc_lo = _mm512_load_pd(kLogLnC);
  mc.lnc_hi = _mm512_load_pd(kLogLnC + 8);
  mc.thc = splat(bp.thc);
  mc.thd = splat(bp.thd);
  mc.ln_cap = splat(std::log(kIsc3SigmaZCapM));
  mc.hv = splat(bp.h);
  mc.coef0 = splat(kInvTwoPi / bp.u);
  mc.zi = splat(bp.zi);
  mc.reach1 = splat(2.0 * bp.zi - bp.h);  // height gap to the n = 1 lid image is reach1 - z
  mc.reach2 = splat(4.0 * bp.zi - bp.h);  // ... to the n = 2 image
  for (int s = 0; s < kSeg; ++s) mc.ln_bound[s] = splat(bp.ln_bound[s]);
  mc.seg = seg;
  mc.lid = bp.lid ? __mmask8{0xFF} : __mmask8{0};
  mc.all_outside = (bp.h > bp.zi) ? __mmask8{0xFF} : __mmask8{0};
  const __m512i eight = _mm512_set1_epi64(8);
  __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);  // i + 0..7
  std::size_t i = 0;
  // Two vectors per iteration: independent chains side by side for the scheduler.
  for (; i + 16 <= k; i += 16) {
    V8 sy0, sz0, sy1, sz1;
    const __mmask8 f0 = math_vec(mc, xd, yc, zr, i, lane, 0xFF, res, img, sy0, sz0);
    const __mmask8 f1 = math_vec(mc, xd, yc, zr, i + 8, _mm512_add_epi64(lane, eight), 0xFF,
                                 res, img, sy1, sz1);
    lane = _mm512_add_epi64(lane, _mm512_add_epi64(eight, eight));
    if ((f0 | f1) != 0) [[unlikely]] {
      if (f0 != 0) fallback_lanes(f0, i, sy0, sz0, xd, yc, zr, bp, res);
      if (f1 != 0) fallback_lanes(f1, i + 8, sy1, sz1, xd, yc, zr, bp, res);
    }
  }
  for (; i < k; i += 8, lane = _mm512_add_epi64(lane, eight)) {
    const __mmask8 valid = (k - i >= 8) ? __mmask8{0xFF} : static_cast<__mmask8>((1u << (k - i)) - 1u);
    V8 sy0, sz0;
    const __mmask8 f0 = math_vec(mc, xd, yc, zr, i, lane, valid, res, img, sy0, sz0);
    if (f0 != 0) fallback_lanes(f0, i, sy0, sz0, xd, yc, zr, bp, res);
  }
}

/// Second pass over the receptors that need the |n| = 1 lid images (positions in img.pos,
/// their quantities gathered from img and zr): vertical image sum n = -1..1 in image_pass's
/// order, (n = -1) + (n = 0) + (n = 1), scattered back into res.
PT_AVX512 void image_pass8(ImageLanes& img, const double* zr, double h, double zi,
                           double* __restrict res) noexcept {
  const ExpTable tab = load_exp_table();
  const V8 off = splat(2.0 * zi);
  const V8 hv = splat(h);
  for (std::size_t i = 0; i < img.count; i += 8) {
    const std::size_t left = img.count - i;
    const __mmask8 valid = (left >= 8) ? __mmask8{0xFF} : static_cast<__mmask8>((1u << left) - 1u);
    const __m512i pos = _mm512_maskz_loadu_epi64(valid, img.pos + i);
    const V8 zero = _mm512_setzero_pd();
    const V8 ay = _mm512_mask_i64gather_pd(zero, valid, pos, img.ay, 8);
    const V8 iz = _mm512_mask_i64gather_pd(zero, valid, pos, img.iz, 8);
    const V8 t0 = _mm512_mask_i64gather_pd(zero, valid, pos, img.t0, 8);
    const V8 coef = _mm512_mask_i64gather_pd(zero, valid, pos, img.coef, 8);
    const V8 z = _mm512_mask_i64gather_pd(zero, valid, pos, zr, 8);
    const V8 dm = _mm512_sub_pd(z, hv);
    const V8 dp = _mm512_add_pd(z, hv);
    const V8 am = _mm512_sub_pd(dm, off);
    const V8 bm = _mm512_sub_pd(dp, off);
    const V8 ap = _mm512_add_pd(dm, off);
    const V8 bq = _mm512_add_pd(dp, off);
    const V8 tm = _mm512_add_pd(exp8(_mm512_fnmadd_pd(_mm512_mul_pd(am, am), iz, ay), tab),
                                exp8(_mm512_fnmadd_pd(_mm512_mul_pd(bm, bm), iz, ay), tab));
    const V8 tp = _mm512_add_pd(exp8(_mm512_fnmadd_pd(_mm512_mul_pd(ap, ap), iz, ay), tab),
                                exp8(_mm512_fnmadd_pd(_mm512_mul_pd(bq, bq), iz, ay), tab));
    const V8 t = _mm512_add_pd(_mm512_add_pd(tm, t0), tp);
    _mm512_mask_i64scatter_pd(res, valid, pos, _mm512_mul_pd(coef, t), 8);
  }
  img.count = 0;
}

/// Compaction of one chunk of 8 receptors (lanes in `in`; kMasked: a partial chunk, loads
/// masked): appends the downwind ones to px/py/pz at k (rotated to downwind / crosswind m) and
/// returns their mask.
template <bool kMasked>
PT_AVX512_INLINE __mmask8 pack_chunk(const double* dx_m, const double* dy_m, const double* z_m,
                                     __mmask8 in, V8 sn, V8 cs, double* __restrict px,
                                     double* __restrict py, double* __restrict pz,
                                     std::size_t& k) noexcept {
  const V8 dx = kMasked ? _mm512_maskz_loadu_pd(in, dx_m) : _mm512_loadu_pd(dx_m);
  const V8 dy = kMasked ? _mm512_maskz_loadu_pd(in, dy_m) : _mm512_loadu_pd(dy_m);
  // Downwind unit vector (-sin θ, -cos θ) for a wind from θ; crosswind (cos θ, -sin θ).
  const V8 xd = _mm512_fnmsub_pd(dx, sn, _mm512_mul_pd(dy, cs));
  const V8 yc = _mm512_fmsub_pd(dx, cs, _mm512_mul_pd(dy, sn));
  const __mmask8 down = kMasked
      ? static_cast<__mmask8>(_mm512_mask_cmp_pd_mask(in, xd, _mm512_setzero_pd(), _CMP_GT_OQ))
      : static_cast<__mmask8>(_mm512_cmp_pd_mask(xd, _mm512_setzero_pd(), _CMP_GT_OQ));
  const V8 z = kMasked ? _mm512_maskz_loadu_pd(in, z_m) : _mm512_loadu_pd(z_m);
  _mm512_storeu_pd(px + k, _mm512_maskz_compress_pd(down, xd));
  _mm512_storeu_pd(py + k, _mm512_maskz_compress_pd(down, yc));
  _mm512_storeu_pd(pz + k, _mm512_maskz_compress_pd(down, z));
  k += static_cast<std::size_t>(__builtin_popcount(down));
  return down;
}

/// The whole call on the AVX-512 path (ISC3 rural sigmas, kSeg σz segments).
template <int kSeg>
PT_AVX512 void batch_avx512(const double* dx_m, const double* dy_m, const double* z_m,
                            std::size_t n, const BatchParams& bp, double* out_s_m3) noexcept {
  constexpr std::size_t kIn = kSuper;
  // Packed downwind receptors; +8: each compress stores a whole register at the fill point.
  alignas(64) double px[kIn + 8];
  alignas(64) double py[kIn + 8];
  alignas(64) double pz[kIn + 8];
  alignas(64) double res[kIn + 8];
  alignas(64) ImageLanes img;
  img.count = 0;
  unsigned char masks[kIn / 8];
  SegTables seg;
  {
    alignas(64) double la[16];
    alignas(64) double b[16];
    for (int j = 0; j < 16; ++j) {
      const int jj = (j < 10) ? j : 9;  // bp pads to 10 by repeating the last segment
      la[j] = bp.ln_a[jj];
      b[j] = bp.b[jj];
    }
    seg = {_mm512_load_pd(la), _mm512_load_pd(la + 8), _mm512_load_pd(b), _mm512_load_pd(b + 8)};
  }
  const V8 sn = splat(bp.sin_dir);
  const V8 cs = splat(bp.cos_dir);
  for (std::size_t base = 0; base < n; base += kIn) {
    const std::size_t m = (n - base < kIn) ? n - base : kIn;
    const std::size_t chunks = (m + 7) / 8;
    std::size_t k = 0;
    const std::size_t full = m / 8;  // whole chunks; then at most one partial one
    for (std::size_t c = 0; c < full; ++c) {
      masks[c] = pack_chunk<false>(dx_m + base + 8 * c, dy_m + base + 8 * c, z_m + base + 8 * c,
                                   0xFF, sn, cs, px, py, pz, k);
    }
    if (chunks > full) {
      const __mmask8 in = static_cast<__mmask8>((1u << (m - 8 * full)) - 1u);
      masks[full] = pack_chunk<true>(dx_m + base + 8 * full, dy_m + base + 8 * full,
                                     z_m + base + 8 * full, in, sn, cs, px, py, pz, k);
    }
    // Zeros from k up to the next multiple of 8: the math's last vector reads them.
    _mm512_storeu_pd(px + k, _mm512_setzero_pd());
    _mm512_storeu_pd(py + k, _mm512_setzero_pd());
    _mm512_storeu_pd(pz + k, _mm512_setzero_pd());
    if (k > 0) {
      math_avx512<kSeg>(px, py, pz, k, bp, seg, res, img);
      if (img.count > 0) image_pass8(img, pz, bp.h, bp.zi, res);
    }
    std::size_t off = 0;
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t i = base + 8 * c;
      const std::size_t left = m - 8 * c;
      const V8 v = _mm512_maskz_expandloadu_pd(masks[c], res + off);  // 0 for upwind lanes
      if (left >= 8) {
        _mm512_storeu_pd(out_s_m3 + i, v);
      } else {
        _mm512_mask_storeu_pd(out_s_m3 + i, static_cast<__mmask8>((1u << left) - 1u), v);
      }
      off += static_cast<std::size_t>(__builtin_popcount(masks[c]));
    }
  }
}

template <int kSeg>
PT_AVX512 void batch_avx512_aligned(const double* dx_m, const double* dy_m, const double* z_m,
                                    std::size_t n, const BatchParams& bp, double* out_s_m3) noexcept {
  // 64-byte vector loads and stores that straddle two cache lines cost about two: do the first
  // few receptors on their own so that the rest start on a cache line of dx_m (typically the
  // other arrays share its alignment: same-sized allocations).
  const std::size_t mis = reinterpret_cast<std::uintptr_t>(dx_m) & 63u;
  std::size_t head = (mis % sizeof(double) == 0) ? ((64u - mis) & 63u) / sizeof(double) : 0;
  head = (head < n) ? head : n;
  if (head > 0) batch_avx512<kSeg>(dx_m, dy_m, z_m, head, bp, out_s_m3);
  if (n > head) batch_avx512<kSeg>(dx_m + head, dy_m + head, z_m + head, n - head, bp, out_s_m3 + head);
}

PT_AVX512 void run_avx512(const double* dx_m, const double* dy_m, const double* z_m,
                          std::size_t n, const BatchParams& bp, double* out_s_m3) noexcept {
  switch (bp.nseg) {
    case 1: batch_avx512_aligned<1>(dx_m, dy_m, z_m, n, bp, out_s_m3); break;
    case 3: batch_avx512_aligned<3>(dx_m, dy_m, z_m, n, bp, out_s_m3); break;
    case 6: batch_avx512_aligned<6>(dx_m, dy_m, z_m, n, bp, out_s_m3); break;
    case 8: batch_avx512_aligned<8>(dx_m, dy_m, z_m, n, bp, out_s_m3); break;
    case 9: batch_avx512_aligned<9>(dx_m, dy_m, z_m, n, bp, out_s_m3); break;
    default: batch_avx512_aligned<10>(dx_m, dy_m, z_m, n, bp, out_s_m3); break;
  }
}

bool avx512_usable() noexcept {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  return ok;
}
#else
bool avx512_usable() noexcept { return false; }
#endif

}  // namespace

namespace detail {

// Test hooks (declared in tests/kernels/plume_batch_test.cpp, not in a public header): which
// path plume_sensitivity_batch takes, and the portable path on its own, so that the two can be
// compared on a CPU that has AVX-512.
bool plume_batch_uses_avx512(SigmaScheme scheme) noexcept {
  return scheme == SigmaScheme::Isc3Rural && avx512_usable();
}

void plume_sensitivity_batch_portable(const double* dx_m, const double* dy_m, const double* z_m,
                                      std::size_t n, double wind_dir_rad, double u_m_s,
                                      double h_eff_m, SigmaScheme scheme, Stability s,
                                      double zi_m, double* out_s_m3) noexcept {
  if (n == 0) return;
  portable_batch(dx_m, dy_m, z_m, n, make_params(wind_dir_rad, u_m_s, h_eff_m, scheme, s, zi_m),
                 out_s_m3);
}

}  // namespace detail

void plume_sensitivity_batch(const double* dx_m, const double* dy_m, const double* z_m,
                             std::size_t n, double wind_dir_rad, double u_m_s, double h_eff_m,
                             SigmaScheme scheme, Stability s, double zi_m,
                             double* out_s_m3) noexcept {
  if (n == 0) return;
  const BatchParams bp = make_params(wind_dir_rad, u_m_s, h_eff_m, scheme, s, zi_m);
#ifdef PT_HAVE_AVX512_PATH
  if (scheme == SigmaScheme::Isc3Rural && avx512_usable()) {
    run_avx512(dx_m, dy_m, z_m, n, bp, out_s_m3);
    return;
  }
#endif
  portable_batch(dx_m, dy_m, z_m, n, bp, out_s_m3);
}

}  // namespace plumetrace
