/// @file trajectory.cpp
/// Heun trajectories and backward Lagrangian stochastic particle footprints (STILT-style).

#include "plumetrace/kernels/trajectory.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#elif defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "plumetrace/core/error.hpp"

namespace plumetrace {

namespace {

/// trajectory() and trajectory_on_grid(): `grid` null = no stop at the grid's edge.
std::vector<TrajectoryPoint> integrate_trajectory(const WindField& wind, const Grid* grid, double x0_m,
                                                  double y0_m, EpochSeconds t0, double duration_s,
                                                  double dt_s, double max_step_m) {
  if (!(dt_s > 0) || !std::isfinite(dt_s)) throw InvalidInput("trajectory: dt_s must be > 0");
  if (!std::isfinite(duration_s)) throw InvalidInput("trajectory: duration must be finite");
  if (!(max_step_m > 0)) throw InvalidInput("trajectory: max_step_m must be > 0");
  const double sgn = duration_s < 0 ? -1.0 : 1.0;
  double remaining = std::abs(duration_s);
  std::vector<TrajectoryPoint> out;
  out.reserve(static_cast<std::size_t>(std::min(1e7, remaining / dt_s + 2)));
  double x = x0_m, y = y0_m, t = t0, path = 0;
  out.push_back({x, y, t, 0});
  // Tolerance: a remainder below 1 µs is rounding.
  while (remaining > 1e-6) {
    double u0, v0;
    wind.wind(x, y, t, u0, v0);
    double h = std::min(dt_s, remaining);
    const double sp = std::hypot(u0, v0);
    if (sp * h > max_step_m) h = max_step_m / sp;
    const double xp = x + sgn * u0 * h, yp = y + sgn * v0 * h;
    double u1, v1;
    wind.wind(xp, yp, t + sgn * h, u1, v1);
    const double xn = x + sgn * 0.5 * (u0 + u1) * h;
    const double yn = y + sgn * 0.5 * (v0 + v1) * h;
    path += std::hypot(xn - x, yn - y);
    x = xn;
    y = yn;
    t += sgn * h;
    remaining -= h;
    out.push_back({x, y, t, path});
    if (grid && !grid->contains(x, y)) break;
  }
  return out;
}

}  // namespace

std::vector<TrajectoryPoint> trajectory(const WindField& wind, double x0_m, double y0_m,
                                        EpochSeconds t0, double duration_s, double dt_s,
                                        double max_step_m) {
  return integrate_trajectory(wind, nullptr, x0_m, y0_m, t0, duration_s, dt_s, max_step_m);
}

std::vector<TrajectoryPoint> trajectory_on_grid(const WindField& wind, const Grid& grid, double x0_m,
                                                double y0_m, EpochSeconds t0, double duration_s,
                                                double dt_s, double max_step_m) {
  return integrate_trajectory(wind, &grid, x0_m, y0_m, t0, duration_s, dt_s, max_step_m);
}

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kKarman = 0.4;

/// 1/sqrt(x) to ~1e-7 relative (hardware estimate + one Newton step): the wind-frame unit vector
/// of the turbulence does not need more, and sqrt + div would be on the step's critical path.
inline double fast_rsqrt(double x) noexcept {
#if defined(__SSE__)
  const float e = _mm_cvtss_f32(_mm_rsqrt_ss(_mm_set_ss(static_cast<float>(x))));
  const double y = e;
  return y * (1.5 - 0.5 * x * y * y);
#else
  return 1.0 / std::sqrt(x);
#endif
}

/// xoshiro256++ (Blackman & Vigna 2019), seeded by splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Advance by 2^128 draws (the reference jump polynomial): streams that never overlap.
  void jump() noexcept {
    static constexpr std::uint64_t kJump[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                              0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    std::uint64_t t[4] = {0, 0, 0, 0};
    for (std::uint64_t j : kJump)
      for (int b = 0; b < 64; ++b) {
        if (j & (std::uint64_t{1} << b))
          for (int w = 0; w < 4; ++w) t[w] ^= s_[w];
        next();
      }
    for (int w = 0; w < 4; ++w) s_[w] = t[w];
  }
  std::uint64_t word(int w) const noexcept { return s_[w]; }
  /// Uniform in [0, 1).
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in (0, 1).
  double uniform_pos() noexcept { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

/// Standard normal deviates by the Marsaglia & Tsang (2000) ziggurat (128 layers), with the sign
/// and magnitude (upper 32 bits) and layer index (bits 0..6) from independent bits of a 64-bit draw.
class Ziggurat {
 public:
  Ziggurat() noexcept {
    const double m1 = 2147483648.0;
    double dn = 3.442619855899, tn = dn;
    const double vn = 9.91256303526217e-3;
    const double q = vn / std::exp(-0.5 * dn * dn);
    kn_[0] = static_cast<std::uint32_t>((dn / q) * m1);
    kn_[1] = 0;
    wn_[0] = q / m1;
    wn_[127] = dn / m1;
    fn_[0] = 1.0;
    fn_[127] = std::exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; --i) {
      dn = std::sqrt(-2.0 * std::log(vn / dn + std::exp(-0.5 * dn * dn)));
      kn_[i + 1] = static_cast<std::uint32_t>((dn / tn) * m1);
      tn = dn;
      fn_[i] = std::exp(-0.5 * dn * dn);
      wn_[i] = dn / m1;
    }
    for (int i = 0; i < 128; ++i) knd_[i] = kn_[i];
  }
  double operator()(Rng& rng) const noexcept { return from(rng.next(), rng); }
  /// The algorithm started from the 64-bit draw r; rejections (~1.2 % of draws) draw from rng.
  double from(std::uint64_t r, Rng& rng) const noexcept {
    for (;;) {
      const auto hz = static_cast<std::int32_t>(static_cast<std::uint32_t>(r >> 32));
      const int iz = static_cast<int>(r & 127);
      const std::uint32_t ahz = hz < 0 ? static_cast<std::uint32_t>(-static_cast<std::int64_t>(hz))
                                       : static_cast<std::uint32_t>(hz);
      const double x = hz * wn_[iz];
      if (ahz < kn_[iz]) return x;
      if (iz == 0) {  // tail beyond r
        constexpr double kR = 3.442619855899;
        double xt, yt;
        do {
          xt = -std::log(rng.uniform_pos()) / kR;
          yt = -std::log(rng.uniform_pos());
        } while (yt + yt < xt * xt);
        return hz > 0 ? kR + xt : -kR - xt;
      }
      if (fn_[iz] + rng.uniform() * (fn_[iz - 1] - fn_[iz]) < std::exp(-0.5 * x * x)) return x;
      r = rng.next();
    }
  }
  /// kn as doubles (exact: < 2^32) and wn, for the vectorised fast path (normals_fast).
  const double* kn() const noexcept { return knd_; }
  const double* wn() const noexcept { return wn_; }

 private:
  std::uint32_t kn_[128];
  double knd_[128];
  double wn_[128];
  double fn_[128];
};

const Ziggurat& ziggurat() {
  static const Ziggurat z;
  return z;
}

// Batch random numbers: compiled for AVX-512, AVX2+FMA and baseline x86-64 (the loader picks
// one); no clones under the sanitizers (ASan/UBSan and ifunc resolvers do not mix).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define PT_SIMD_ATTRS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PT_SIMD_ATTRS
#endif

/// Independent xoshiro256++ streams run side by side (one SIMD lane each).
constexpr std::size_t kStreams = 8;

/// Advance kStreams xoshiro256++ streams (state word w of stream j in s[w * kStreams + j]) and
/// write `count` draws (a multiple of kStreams), out[i] from stream i % kStreams.
PT_SIMD_ATTRS void xoshiro_streams(std::uint64_t* s, std::uint64_t* out, std::size_t count) noexcept {
  typedef std::uint64_t vu __attribute__((vector_size(kStreams * sizeof(std::uint64_t))));
  vu s0, s1, s2, s3;
  std::memcpy(&s0, s, sizeof s0);
  std::memcpy(&s1, s + kStreams, sizeof s1);
  std::memcpy(&s2, s + 2 * kStreams, sizeof s2);
  std::memcpy(&s3, s + 3 * kStreams, sizeof s3);
  for (std::size_t i = 0; i + kStreams <= count; i += kStreams) {
    const vu sum = s0 + s3;
    const vu result = ((sum << 23) | (sum >> 41)) + s0;
    const vu t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 45) | (s3 >> 19);
    std::memcpy(out + i, &result, sizeof result);
  }
  std::memcpy(s, &s0, sizeof s0);
  std::memcpy(s + kStreams, &s1, sizeof s1);
  std::memcpy(s + 2 * kStreams, &s2, sizeof s2);
  std::memcpy(s + 3 * kStreams, &s3, sizeof s3);
}

/// The ziggurat's fast path for each draw (sign and magnitude hz from bits 32..63, layer iz from
/// bits 0..6, as Ziggurat::from), kStreams draws at a time: out[i] = hz wn[iz] when
/// |hz| < kn[iz], else NaN, which the caller replaces by Ziggurat::from(r[i]); bad[b] = 1 when
/// block b (out[b kStreams ..]) holds such a NaN (~9 % of blocks). count: a multiple of kStreams.
PT_SIMD_ATTRS void normals_fast(const std::uint64_t* r, std::size_t count, const double* kn,
                                const double* wn, double* out, unsigned char* bad) noexcept {
  typedef std::int64_t vi __attribute__((vector_size(kStreams * sizeof(std::int64_t))));
  typedef double vd __attribute__((vector_size(kStreams * sizeof(double))));
  const vd zero = {}, nan = zero + std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i + kStreams <= count; i += kStreams) {
    vi ri;
    std::memcpy(&ri, r + i, sizeof ri);
    const vd hz = __builtin_convertvector(ri >> 32, vd);  // the signed upper 32 bits
    const vi iz = ri & 127;
    vd w, k;
    for (std::size_t j = 0; j < kStreams; ++j) {
      w[j] = wn[iz[j]];
      k[j] = kn[iz[j]];
    }
    const vi fast = (hz < zero ? -hz : hz) < k;  // lanes: -1 (fast path) or 0
    const vd x = fast ? hz * w : nan;
    std::memcpy(out + i, &x, sizeof x);
    std::int64_t all = -1;
    for (std::size_t j = 0; j < kStreams; ++j) all &= fast[j];
    bad[i / kStreams] = all == 0;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PT_AVX512_NORMALS 1
/// normals_fast with AVX-512 table gathers (GCC builds the vectors element by element instead).
/// maskz_/mask_ forms with full masks: the plain intrinsics trip GCC 12's -Wmaybe-uninitialized.
__attribute__((target("avx512f,avx512dq"))) void normals_fast_avx512(
    const std::uint64_t* r, std::size_t count, const double* kn, const double* wn, double* out,
    unsigned char* bad) noexcept {
  const __m512d zero = _mm512_setzero_pd();
  const __m512d nan = _mm512_set1_pd(std::numeric_limits<double>::quiet_NaN());
  const __m512i low7 = _mm512_set1_epi64(127);
  for (std::size_t i = 0; i + kStreams <= count; i += kStreams) {
    const __m512i ri = _mm512_loadu_si512(r + i);
    const __m512d hz = _mm512_maskz_cvtepi64_pd(0xFF, _mm512_maskz_srai_epi64(0xFF, ri, 32));
    const __m512i iz = _mm512_and_si512(ri, low7);
    const __m512d w = _mm512_mask_i64gather_pd(zero, 0xFF, iz, wn, 8);
    const __m512d k = _mm512_mask_i64gather_pd(zero, 0xFF, iz, kn, 8);
    const __mmask8 fast = _mm512_cmp_pd_mask(_mm512_abs_pd(hz), k, _CMP_LT_OQ);
    _mm512_storeu_pd(out + i, _mm512_mask_blend_pd(fast, nan, _mm512_mul_pd(hz, w)));
    bad[i / kStreams] = fast != 0xFF;
  }
}

bool cpu_has_avx512dq() noexcept {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          !std::getenv("PLUMETRACE_NO_AVX512");
  return yes;
}
#endif

/// Standard normal deviates in bulk: kStreams xoshiro256++ streams, the ziggurat's fast path
/// vectorised, the ~1.2 % of draws that leave it finished by the scalar algorithm (same
/// distribution as Ziggurat::operator()).
class NormalStream {
 public:
  explicit NormalStream(std::uint64_t seed) noexcept : slow_(seed ^ 0x243f6a8885a308d3ULL) {
    Rng base(seed ^ 0x6a09e667f3bcc909ULL);  // streams apart from the caller's Rng(seed)
    for (std::size_t j = 0; j < kStreams; ++j) {
      for (int w = 0; w < 4; ++w) state_[w * kStreams + j] = base.word(w);
      base.jump();
    }
  }
  /// Fill out[0..n) with independent N(0, 1) deviates; n must be a multiple of kStreams.
  void fill(double* out, std::size_t n) {
    if (raw_.size() < n) {
      raw_.resize(n);
      bad_.resize(n / kStreams);
    }
    xoshiro_streams(state_.data(), raw_.data(), n);
    const Ziggurat& zig = ziggurat();
#ifdef PT_AVX512_NORMALS
    if (cpu_has_avx512dq())
      normals_fast_avx512(raw_.data(), n, zig.kn(), zig.wn(), out, bad_.data());
    else
#endif
      normals_fast(raw_.data(), n, zig.kn(), zig.wn(), out, bad_.data());
    for (std::size_t b = 0; b < n / kStreams; ++b) {
      if (!bad_[b]) continue;
      for (std::size_t j = b * kStreams; j < (b + 1) * kStreams; ++j)
        if (out[j] != out[j]) out[j] = zig.from(raw_[j], slow_);
    }
  }

 private:
  std::array<std::uint64_t, 4 * kStreams> state_{};
  Rng slow_;
  std::vector<std::uint64_t> raw_;
  std::vector<unsigned char> bad_;
};

/// Turbulence of one time slice on kLevels equal layers of [0, zi], with the Ornstein–Uhlenbeck
/// coefficients for one step dt.
constexpr int kLevels = 64;
struct Profile {
  double zi{};
  double inv_dz{};      ///< kLevels / zi
  double h_layer{};     ///< surface_layer_fraction * zi
  /// What one step needs at one level, in one 64-byte record (one cache line per particle-step).
  struct alignas(64) Level {
    double au, bu, av, bv, aw, bw, drift, sw;
  };
  std::array<Level, kLevels> lv{};
  std::array<double, kLevels> su{}, sv{};  ///< σu, σv (initial velocities)
};

/// Hanna (1982) turbulence as in FLEXPART's hanna.f: σu, σv, σw (m/s) and Lagrangian time scales
/// (s) at height z (m) for boundary-layer depth zi (m), friction velocity u* (m/s) and Obukhov
/// length L (m). Neutral when zi/|L| < 1. Time scales floored at 10 s (u, v) and 30 s (w).
void hanna(double z, double zi, double ustar, double obukhov, double& su, double& sv, double& sw,
           double& tlu, double& tlv, double& tlw) noexcept {
  const double zeta = std::clamp(z / zi, 1e-4, 1.0);
  if (!(std::abs(obukhov) > 0) || zi / std::abs(obukhov) < 1.0) {  // neutral
    const double corr = z / ustar;
    su = 0.01 + 2.0 * ustar * std::exp(-3e-4 * corr);
    sw = 0.01 + 1.3 * ustar * std::exp(-2e-4 * corr);
    sv = sw;
    tlu = 0.5 * z / sw / (1.0 + 1.5e-3 * corr);
    tlv = tlu;
    tlw = tlu;
  } else if (obukhov < 0) {  // unstable
    const double wstar = ustar * std::cbrt(zi / (kKarman * std::abs(obukhov)));
    su = 0.01 + ustar * std::cbrt(12.0 - 0.5 * zi / obukhov);
    sv = su;
    sw = 0.01 + std::sqrt(1.2 * wstar * wstar * (1.0 - 0.9 * zeta) * std::pow(zeta, 2.0 / 3.0) +
                          (1.8 - 1.4 * zeta) * ustar * ustar);
    tlu = 0.15 * zi / su;
    tlv = tlu;
    if (z < std::abs(obukhov))
      tlw = 0.1 * z / (sw * (0.55 - 0.38 * std::abs(z / obukhov)));
    else if (zeta < 0.1)
      tlw = 0.59 * z / sw;
    else
      tlw = 0.15 * zi / sw * (1.0 - std::exp(-5.0 * zeta));
  } else {  // stable
    su = 0.01 + 2.0 * ustar * (1.0 - zeta);
    sv = 0.01 + 1.3 * ustar * (1.0 - zeta);
    sw = sv;
    tlu = 0.15 * zi / su * std::sqrt(zeta);
    tlv = 0.467 * tlu;
    tlw = 0.1 * zi / sw * std::pow(zeta, 0.8);
  }
  tlu = std::max(10.0, tlu);
  tlv = std::max(10.0, tlv);
  tlw = std::max(30.0, tlw);
}

/// x with its sign flipped when `sign` is negative (sign bit set), without a branch.
inline double flip_if_negative(double x, double sign) noexcept {
  constexpr std::uint64_t kSign = std::uint64_t{1} << 63;
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(x) ^ (std::bit_cast<std::uint64_t>(sign) & kSign));
}

/// The particle engine shared by particle_footprint and particle_positions.
class ParticleRun {
 public:
  ParticleRun(const WindField& wind, const Grid* grid, double x_m, double y_m, EpochSeconds t_start,
              double averaging_s, double duration_s, const FootprintOptions& o)
      : wind_(wind), x_(x_m), y_(y_m), t_start_(t_start), averaging_(averaging_s), o_(o) {
    if (o.particles < 1) throw InvalidInput("particle footprint: particles must be >= 1");
    if (!(o.dt_s > 0) || !std::isfinite(o.dt_s)) throw InvalidInput("particle footprint: dt_s must be > 0");
    if (!(duration_s >= 0) || !std::isfinite(duration_s))
      throw InvalidInput("particle footprint: duration must be >= 0");
    if (!(averaging_s >= 0) || !std::isfinite(averaging_s))
      throw InvalidInput("particle footprint: averaging_s must be >= 0");
    if (!(o.surface_layer_fraction > 0) || o.surface_layer_fraction > 1)
      throw InvalidInput("particle footprint: surface_layer_fraction must be in (0, 1]");
    if (!std::isfinite(x_m) || !std::isfinite(y_m) || !std::isfinite(t_start))
      throw InvalidInput("particle footprint: receptor position/time not finite");
    if (wind.slices.empty()) throw InvalidInput("particle footprint: wind field without time slices");
    steps_ = static_cast<int>(std::ceil(duration_s / o.dt_s - 1e-9));
    dt_ = steps_ > 0 ? duration_s / steps_ : o.dt_s;
    profiles_.resize(wind.slices.size());
    if (grid) {
      if (!(grid->cell_m > 0) || grid->cols < 1 || grid->rows < 1)
        throw InvalidInput("particle footprint: empty grid");
    }
  }

  int steps() const noexcept { return steps_; }
  double dt() const noexcept { return dt_; }

  /// Particle states, structure of arrays.
  struct State {
    std::vector<double> x, y, z, t, ua, vc, wn, lo, hi, ex, ey, u, v;
    std::vector<const Profile*> pr;
  };

  /// Run all particles in lockstep, backward in time. After every step k (all particles moved
  /// from t to t - dt) `on_step(k, state)` is called; it returns false to stop early.
  template <class OnStep>
  void run(OnStep&& on_step) {
    Rng rng(o_.seed);
    const Ziggurat& zig = ziggurat();
    const int n = o_.particles;
    State s;
    for (auto* v : {&s.x, &s.y, &s.z, &s.t, &s.ua, &s.vc, &s.wn, &s.lo, &s.hi, &s.ex, &s.ey, &s.u, &s.v}) v->resize(n);
    s.pr.resize(n);
    for (int p = 0; p < n; ++p) {
      const double t = t_start_ + (averaging_ > 0 ? averaging_ * (p + rng.uniform()) / n : 0.0);
      const std::size_t si = nearest_slice(t);
      slice_bounds(si, s.lo[p], s.hi[p]);
      const Profile* pr = &profile(si);
      s.pr[p] = pr;
      s.t[p] = t;
      s.x[p] = x_;
      s.y[p] = y_;
      s.z[p] = std::clamp(o_.receptor_height_m, 0.0, 0.999 * pr->zi);
      const int lv = level(*pr, s.z[p]);
      s.ua[p] = pr->su[lv] * zig(rng);  // stationary initial velocities
      s.vc[p] = pr->sv[lv] * zig(rng);
      s.wn[p] = zig(rng);               // w / σw
      double u0, v0;                    // initial along-wind frame
      wind_.wind(x_, y_, t, u0, v0);
      const double sp = std::hypot(u0, v0);
      s.ex[p] = sp > 1e-6 ? u0 / sp : 1.0;
      s.ey[p] = sp > 1e-6 ? v0 / sp : 0.0;
    }
    NormalStream normals(o_.seed);
    // This step's normals: u | v | w, each n rounded up to whole blocks of kStreams.
    const std::size_t stride = (static_cast<std::size_t>(n) + kStreams - 1) / kStreams * kStreams;
    std::vector<double> xi(3 * stride);
    const double* xi_u = xi.data();
    const double* xi_v = xi_u + stride;
    const double* xi_w = xi_v + stride;
    for (int k = 0; k < steps_; ++k) {
      // Mean wind of every particle first (IDW for 8 particles at a time: they are in release
      // order, so neighbours share the time slices), and all of the step's random normals, then
      // the turbulence and the move.
      wind_.wind_batch(s.x.data(), s.y.data(), s.t.data(), static_cast<std::size_t>(n), s.u.data(), s.v.data());
      normals.fill(xi.data(), xi.size());
      for (int p = 0; p < n; ++p) {
        double x = s.x[p], y = s.y[p], z = s.z[p], t = s.t[p];
        const Profile* pr = s.pr[p];
        const double u = s.u[p], v = s.v[p];
        const Profile::Level& L = pr->lv[level(*pr, z)];
        const double ua = L.au * s.ua[p] + L.bu * xi_u[p];
        const double vc = L.av * s.vc[p] + L.bv * xi_v[p];
        double wn = L.aw * s.wn[p] + L.bw * xi_w[p] + L.drift;
        // Backward in time: move against the mean wind; the turbulent part is symmetric. The
        // along/cross-wind frame (ex, ey) is the previous step's wind direction, which keeps the
        // normalisation off the step's critical path (the frame lags by one step).
        const double ex = s.ex[p], ey = s.ey[p];
        x -= (u + ua * ex - vc * ey) * dt_;
        y -= (v + ua * ey + vc * ex) * dt_;
        const double sp2 = u * u + v * v;
        if (sp2 > 1e-12) {
          const double inv = fast_rsqrt(sp2);
          s.ex[p] = u * inv;
          s.ey[p] = v * inv;
        }
        z += wn * L.sw * dt_;
        const double zi = pr->zi;
        // Reflection at the ground (z < 0: z = -z, wn = -wn) and then at the mixing lid (z > zi:
        // z = 2 zi - z, wn = -wn), branch-free: particles near either boundary cross it at
        // random, which branches would mispredict. (z = -0 or z = zi exactly also flip wn, an
        // event of probability zero that changes nothing physical.)
        wn = flip_if_negative(wn, z);
        z = std::abs(z);
        wn = flip_if_negative(wn, zi - z);
        z = std::min(z, 2 * zi - z);
        z = std::clamp(z, 0.0, zi * 0.999);
        t -= dt_;
        if (t < s.lo[p] || t > s.hi[p]) {
          const std::size_t si = nearest_slice(t);
          slice_bounds(si, s.lo[p], s.hi[p]);
          s.pr[p] = &profile(si);
          z = std::min(z, 0.999 * s.pr[p]->zi);
        }
        s.x[p] = x;
        s.y[p] = y;
        s.z[p] = z;
        s.t[p] = t;
        s.ua[p] = ua;
        s.vc[p] = vc;
        s.wn[p] = wn;
      }
      if (!on_step(k, s)) break;
    }
  }


 private:
  static int level(const Profile& pr, double z) noexcept {
    return std::min(kLevels - 1, std::max(0, static_cast<int>(z * pr.inv_dz)));
  }

  std::size_t nearest_slice(EpochSeconds t) const noexcept {
    std::size_t k;
    double a;
    wind_.time_index(t, k, a);
    return (a >= 0.5 && k + 1 < wind_.slices.size()) ? k + 1 : k;
  }

  /// Times for which slice k is the nearest.
  void slice_bounds(std::size_t k, double& lo, double& hi) const noexcept {
    const auto& s = wind_.slices;
    lo = k == 0 ? -std::numeric_limits<double>::infinity() : 0.5 * (s[k - 1].t + s[k].t);
    hi = k + 1 >= s.size() ? std::numeric_limits<double>::infinity() : 0.5 * (s[k].t + s[k + 1].t);
  }

  const Profile& profile(std::size_t k) {
    if (!profiles_[k]) profiles_[k] = build_profile(wind_.slices[k]);
    return *profiles_[k];
  }

  std::unique_ptr<Profile> build_profile(const WindField::Slice& sl) const {
    auto pr = std::make_unique<Profile>();
    const double zi = std::max(10.0, sl.mixing_height_m > 0 ? sl.mixing_height_m : default_mixing_height_m(sl.stability));
    pr->zi = zi;
    pr->inv_dz = kLevels / zi;
    pr->h_layer = o_.surface_layer_fraction * zi;
    const double z0 = wind_.roughness_m > 0 ? wind_.roughness_m : 0.1;
    const double speed = std::max(kMinWindSpeed, sl.mean_speed_m_s);
    const double ustar = std::isfinite(sl.friction_velocity_m_s) && sl.friction_velocity_m_s > 0
                             ? sl.friction_velocity_m_s
                             : kKarman * speed / std::log(10.0 / std::min(z0, 1.0));
    double obukhov = sl.obukhov_length_m;
    if (!std::isfinite(obukhov) || obukhov == 0) {
      const double inv = golder_inverse_obukhov(sl.stability, z0);
      obukhov = inv == 0 ? 1e9 : 1.0 / inv;
    }
    const bool fixed = o_.fixed_sigma_uv_m_s > 0;
    std::array<double, kLevels> su{}, sv{}, sw{}, tu{}, tv{}, tw{};
    for (int l = 0; l < kLevels; ++l) {
      const double z = (l + 0.5) * zi / kLevels;
      if (fixed) {
        su[l] = sv[l] = o_.fixed_sigma_uv_m_s;
        sw[l] = o_.fixed_sigma_w_m_s > 0 ? o_.fixed_sigma_w_m_s : o_.fixed_sigma_uv_m_s;
        tu[l] = tv[l] = tw[l] = o_.fixed_lagrangian_time_s > 0 ? o_.fixed_lagrangian_time_s : 100.0;
      } else {
        hanna(z, zi, ustar, obukhov, su[l], sv[l], sw[l], tu[l], tv[l], tw[l]);
        if (sl.sigma_theta_deg > 0) sv[l] = std::max(0.01, sl.sigma_theta_deg * kPi / 180.0 * speed);
      }
    }
    // Exact Ornstein–Uhlenbeck coefficients for the step: x' = a x + σ sqrt(1 - a²) ξ.
    for (int l = 0; l < kLevels; ++l) {
      const double a_u = std::exp(-dt_ / tu[l]), a_v = std::exp(-dt_ / tv[l]), a_w = std::exp(-dt_ / tw[l]);
      Profile::Level& L = pr->lv[l];
      L.au = a_u;
      L.bu = su[l] * std::sqrt(1 - a_u * a_u);
      L.av = a_v;
      L.bv = sv[l] * std::sqrt(1 - a_v * a_v);
      L.aw = a_w;
      L.bw = std::sqrt(1 - a_w * a_w);
      L.sw = sw[l];
      pr->su[l] = su[l];
      pr->sv[l] = sv[l];
      // Well-mixed drift of the normalised vertical velocity (Wilson et al. 1983, as FLEXPART):
      // (1 - a) T_Lw dσw/dz, with dσw/dz by differences between levels (one-sided at the ends).
      const int l0 = std::max(0, l - 1), l1 = std::min(kLevels - 1, l + 1);
      const double dsw = (sw[l1] - sw[l0]) / ((l1 - l0) * zi / kLevels);
      L.drift = (1 - a_w) * tw[l] * dsw;
    }
    return pr;
  }

  const WindField& wind_;
  double x_, y_;
  EpochSeconds t_start_;
  double averaging_;
  const FootprintOptions& o_;
  int steps_{};
  double dt_{};
  std::vector<std::unique_ptr<Profile>> profiles_;
};

}  // namespace

std::vector<float> particle_footprint(const WindField& wind, const Grid& grid, double x_m, double y_m,
                                      EpochSeconds t_start, double averaging_s,
                                      const FootprintOptions& options) {
  ParticleRun run(wind, &grid, x_m, y_m, t_start, averaging_s, options.duration_s, options);
  std::vector<double> acc(grid.size(), 0.0);
  const double x0 = grid.x0_m, y1 = grid.y1_m, inv_cell = 1.0 / grid.cell_m;
  const int cols = grid.cols, rows = grid.rows;
  const double emit_start = options.emit_start, emit_end = options.emit_end;
  const double n = options.particles;
  const double base = 1.0 / (n * grid.cell_m * grid.cell_m);
  const double dt = run.dt();
  const double t_latest = t_start + averaging_s;  // latest release
  run.run([&](int k, const ParticleRun::State& s) {
    const double t_old_latest = t_latest - k * dt;
    if (t_old_latest <= emit_start) return false;  // every later step is earlier still
    if (t_old_latest - averaging_s - dt >= emit_end) return true;  // not yet in the window
    // Effective dilution depth of this age: the particles' own vertical spread. For a reflected
    // Gaussian from the ground, mean(z) = sqrt(2/π) σz, so sqrt(π/2) σz = (π/2) mean(z).
    double h_nf = std::numeric_limits<double>::infinity();
    if (options.near_field_correction) {
      double sz = 0;
      for (double z : s.z) sz += z;
      h_nf = std::max(1.0, 0.5 * kPi * sz / n);
    }
    for (std::size_t p = 0; p < s.x.size(); ++p) {
      const double t_new = s.t[p], t_old = t_new + dt;
      const double overlap = std::min(t_old, emit_end) - std::max(t_new, emit_start);
      if (!(overlap > 0)) continue;
      const double fc = (s.x[p] - x0) * inv_cell, fr = (y1 - s.y[p]) * inv_cell;
      if (!(fc >= 0 && fr >= 0 && fc < cols && fr < rows)) continue;
      // Only particles in the surface layer count; as a 0/1 factor, not a branch (about half
      // of the particles are in it, at random).
      const Profile& pr = *s.pr[p];
      const double in_layer = static_cast<double>(s.z[p] < pr.h_layer);
      const std::size_t cell = static_cast<std::size_t>(static_cast<int>(fr)) * cols + static_cast<int>(fc);
      acc[cell] += in_layer * overlap * base / std::min(pr.h_layer, h_nf);
    }
    return true;
  });
  return std::vector<float>(acc.begin(), acc.end());
}

std::vector<std::vector<ParticlePosition>> particle_positions(const WindField& wind, double x_m,
                                                              double y_m, EpochSeconds t_start,
                                                              double averaging_s,
                                                              const std::vector<double>& ages_s,
                                                              const FootprintOptions& options) {
  double max_age = 0;
  for (double a : ages_s) {
    if (!(a >= 0) || !std::isfinite(a)) throw InvalidInput("particle_positions: ages must be >= 0");
    max_age = std::max(max_age, a);
  }
  ParticleRun run(wind, nullptr, x_m, y_m, t_start, averaging_s, max_age, options);
  std::vector<std::vector<ParticlePosition>> out(ages_s.size());
  // Step index after which the state is recorded (-1: the release itself).
  std::vector<int> step_of(ages_s.size());
  for (std::size_t i = 0; i < ages_s.size(); ++i) {
    step_of[i] = std::min(run.steps(), static_cast<int>(std::lround(ages_s[i] / run.dt()))) - 1;
    if (step_of[i] < 0) {
      Rng rng(options.seed);
      for (int p = 0; p < options.particles; ++p) {
        const double t = t_start + (averaging_s > 0 ? averaging_s * (p + rng.uniform()) / options.particles : 0.0);
        out[i].push_back({x_m, y_m, options.receptor_height_m, t});
      }
    }
  }
  run.run([&](int k, const ParticleRun::State& s) {
    for (std::size_t i = 0; i < ages_s.size(); ++i) {
      if (step_of[i] != k) continue;
      out[i].reserve(s.x.size());
      for (std::size_t p = 0; p < s.x.size(); ++p) out[i].push_back({s.x[p], s.y[p], s.z[p], s.t[p]});
    }
    return true;
  });
  return out;
}

}  // namespace plumetrace
