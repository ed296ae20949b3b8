#include "plumetrace/inversion/inversion.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <functional>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>

#include "plumetrace/core/error.hpp"
#include "plumetrace/core/parallel.hpp"
#include "plumetrace/core/tuning.hpp"

namespace plumetrace {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The likelihood's inner functions are inlined into every loop that calls them (the rows below
// vectorise only then; GCC's size heuristics otherwise call them out of line from some loops).
#if defined(__GNUC__)
#define PT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define PT_ALWAYS_INLINE inline
#endif

/// Natural log for x > 0 (finite, normal), absolute error < 1e-9: exponent split and a 2·atanh
/// series on the mantissa in [√½, √2]. About 3× faster than std::log1p on the likelihood path,
/// and branch-free (selects, the exponent converted through the 2^52 trick instead of an
/// int64 -> double conversion, which SSE2/AVX2 lack) so that the likelihood rows vectorise.
PT_ALWAYS_INLINE double fast_log(double x) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const std::uint64_t ebits = ((bits >> 52) & 0x7ff) | 0x4330000000000000ULL;
  double e;
  std::memcpy(&e, &ebits, sizeof e);
  e -= 4503599627370496.0 + 1023.0;  // 2^52 + bias: exact
  bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m;
  std::memcpy(&m, &bits, sizeof m);
  const bool high = m > 1.4142135623730951;
  m = high ? 0.5 * m : m;
  e = high ? e + 1.0 : e;
  const double f = m - 1.0;
  const double t = f / (2.0 + f);
  const double t2 = t * t;
  const double series =
      t * (2.0 + t2 * (2.0 / 3 + t2 * (2.0 / 5 + t2 * (2.0 / 7 + t2 * (2.0 / 9 + t2 * (2.0 / 11))))));
  return series + e * 0.6931471805599453;
}

/// exp(x), relative error < 1e-15, for x <= 709 (x < −708 gives exp(−708) ≈ 3e-308, which every
/// caller adds to terms of 1 or more: a zero): x = n ln 2 + r with |r| <= ln 2 / 2 (Cody & Waite
/// 1980, ln 2 in two parts), exp(r) by its Taylor series to r¹³ (the remainder is below 2e-16 at
/// |r| = 0.347), times 2ⁿ built in the exponent bits. Plain arithmetic and selects, so the member
/// sums below vectorise (GCC calls libm's exp one value at a time) and every x86-64 level gives
/// the same bits.
PT_ALWAYS_INLINE double fast_exp(double x) noexcept {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kRound = 6755399441055744.0;  // 1.5 · 2^52: adding it rounds to an integer
  x = x < -708.0 ? -708.0 : x;
  x = x > 709.0 ? 709.0 : x;
  const double t = x * kLog2e + kRound;
  const double n = t - kRound;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
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
  // 2^n: n sits in the low bits of t's mantissa (two's complement around kRound's)
  std::uint64_t tb;
  std::memcpy(&tb, &t, sizeof tb);
  const std::uint64_t sb = (tb + 1023) << 52;
  double scale;
  std::memcpy(&scale, &sb, sizeof scale);
  return p * scale;
}

double log_sum_exp(const double* v, std::size_t n) noexcept {
  double mx = kNegInf;
  for (std::size_t i = 0; i < n; ++i) mx = std::max(mx, v[i]);
  if (!std::isfinite(mx)) return mx;
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::exp(v[i] - mx);
  return mx + std::log(s);
}


/// Per-observation constants of the error model.
struct ObsModel {
  double log_yc{};   ///< ln(y + c)
  double b{}, c{};   ///< b: the level expected without a release (background + usual emissions)
  double u{};        ///< the usual emissions' part of b (a modelled plume: it carries model error)
  double noise_term2{};  ///< (n / (background + c))²
  double w{};
  double l0{};       ///< log-likelihood with no source contribution
  double excess{};   ///< y − b, floored at 0: the release part the observation shows
  double noise{};    ///< the platform's noise n, case units
  double median_factor{1};  ///< median / mean of the plume concentration over this averaging time
};

/// Student-t log density of an observation given the modelled mean plume part (case units),
/// times its weight w. s2m: the model error variance of the plume part (log units squared).
PT_ALWAYS_INLINE double obs_loglik(const ObsModel& m, double plume_mean, double s2m, double nu) noexcept {
  const double plume = plume_mean * m.median_factor;
  const double r = m.log_yc - fast_log(m.b + plume + m.c);
  // model error applies to the modelled plume parts (release and usual emissions), or to what
  // the observation shows above the background, whichever is larger
  const double p = std::max(plume, m.excess) + m.u;
  const double frac = p / (m.b - m.u + p);
  const double s2 = s2m * frac * frac + m.noise_term2;
  return m.w * (-0.5 * (nu + 1) * fast_log(1.0 + r * r / (nu * s2)) - 0.5 * fast_log(s2));
}

// The likelihood rows below are where the inversion spends its time. They are built for several
// x86-64 levels (the loader picks one) and vectorise there; inversion.cpp is compiled with
// -ffp-contract=off so that every level (and the ASan build, without clones) gives the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define PT_ROW_ATTRS __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PT_ROW_ATTRS
#endif

/// row[k] += ℓ(q[k] h) − ℓ(0) for k = k0, k0 + stride, ... < nq.
PT_ROW_ATTRS
void add_loglik_row(const ObsModel& m, double h, const double* __restrict q, std::size_t k0,
                    std::size_t nq, std::size_t stride, double s2m, double nu,
                    double* __restrict row) noexcept {
  if (stride == 1) {
    for (std::size_t k = k0; k < nq; ++k) row[k] += obs_loglik(m, q[k] * h, s2m, nu) - m.l0;
  } else {
    // gathered into contiguous chunks so that the strided case vectorises as well (left to
    // itself the compiler calls obs_loglik out of line, one rate at a time)
    constexpr std::size_t kChunk = 32;
    double qs[kChunk], out[kChunk];
    for (std::size_t k = k0; k < nq;) {
      std::size_t n = 0;
      for (std::size_t kk = k; kk < nq && n < kChunk; kk += stride) qs[n++] = q[kk];
      for (std::size_t i = 0; i < n; ++i) out[i] = obs_loglik(m, qs[i] * h, s2m, nu) - m.l0;
      for (std::size_t i = 0; i < n; ++i, k += stride) row[k] += out[i];
    }
  }
}

/// acc[j] += w · exp(ratio · (s[j] − mx[j])) for j = j0, j0 + stride, ... < n: one member's term
/// of a mixture over the members, for a row of rates. s == nullptr: a member that does not reach
/// (its score is 0).
PT_ROW_ATTRS
void add_member_exp_row(const double* __restrict s, const double* __restrict mx, double ratio, double w,
                        std::size_t j0, std::size_t n, std::size_t stride, double* __restrict acc) noexcept {
  if (s == nullptr)
    for (std::size_t j = j0; j < n; j += stride) acc[j] += w * fast_exp(ratio * (0.0 - mx[j]));
  else if (stride == 1)  // contiguous: vectorises
    for (std::size_t j = j0; j < n; ++j) acc[j] += w * fast_exp(ratio * (s[j] - mx[j]));
  else
    for (std::size_t j = j0; j < n; j += stride) acc[j] += w * fast_exp(ratio * (s[j] - mx[j]));
}

/// Two sources: row[u·nv + v] += ℓ(scale (qa[u] ha + qb[v] hb)) − ℓ(0).
PT_ROW_ATTRS
void add_loglik_pair(const ObsModel& m, double ha, double hb, double scale, const double* __restrict qa,
                     std::size_t nu_a, const double* __restrict qb, std::size_t nv, double s2m,
                     double nu, double* __restrict row) noexcept {
  for (std::size_t u = 0; u < nu_a; ++u) {
    const double base = qa[u] * ha;
    double* r = row + u * nv;
    for (std::size_t v = 0; v < nv; ++v) r[v] += obs_loglik(m, scale * (base + qb[v] * hb), s2m, nu) - m.l0;
  }
}

class Scorer {
 public:
  /// With `calibrate`, score_columns also scores every o.temper_grid tempering and the held-out
  /// predictive terms (SiteScore::eta_log_q, loo_num, loo_den).
  /// @pre !calibrate or o.temper > 0
  Scorer(const ObservationSet& set, const InversionOptions& o, bool calibrate = false) : o_(o) {
    if (calibrate) {
      assert(o.temper > 0);
      for (double t : o.temper_grid) ratio_.push_back(t / o.temper);
      untempered_ratio_ = 1.0 / o.temper;
    }
    obs_.reserve(set.obs.size());
    // an image is one correlated snapshot: its cells together weigh as kImageryEffectiveObservations
    std::vector<std::size_t> cells_of(set.platforms.size(), 0);
    for (const Observation& ob : set.obs) ++cells_of[static_cast<std::size_t>(ob.platform)];
    for (const Observation& ob : set.obs) {
      const Platform& p = set.platforms[static_cast<std::size_t>(ob.platform)];
      ObsModel m;
      const double bg = std::max(p.background, 0.0);
      m.u = std::max(ob.usual, 0.0);
      m.b = bg + m.u;
      m.c = std::max(p.noise, tuning::kLogOffsetFractionOfBackground * bg);
      if (m.c <= 0) m.c = 1e-6;
      m.log_yc = std::log(std::max(ob.value, 0.0) + m.c);
      m.excess = std::max(ob.value - m.b, 0.0);
      // Concentration fluctuations: the kernels give the MEAN plume; a short sample scatters
      // about it with a skewed (log-normal-like) distribution whose median is mean/√(1+i²).
      // The log-space residual compares medians, so the mean is scaled by that factor, with
      // fluctuation intensity i = √(60 s / T) capped at 1 (T: averaging time; 1 for samples of
      // a minute or less, 0.13 for hourly means).
      const double intensity = std::min(1.0, std::sqrt(tuning::kFluctuationTimeS / std::max(ob.averaging_s, 1.0)));
      m.median_factor = 1.0 / std::sqrt(1.0 + intensity * intensity);
      m.noise = p.noise;
      const double nt = p.noise / (bg + m.c);
      m.noise_term2 = nt * nt;
      m.w = o.temper * (ob.kind == ObservationKind::Mobile ? o.mobile_weight : 1.0);
      if (ob.kind == ObservationKind::Imagery)
        m.w *= std::min(1.0, tuning::kImageryEffectiveObservations /
                                 static_cast<double>(cells_of[static_cast<std::size_t>(ob.platform)]));
      m.l0 = loglik(m, 0.0);
      obs_.push_back(m);
    }
    // direction-error blocks: the wind-direction member is drawn independently per block
    double t_ref = 1e300;
    for (const Observation& ob : set.obs) t_ref = std::min(t_ref, ob.t_start + 0.5 * ob.averaging_s);
    // long means share a block per direction_block_s; short samples (mobile segments, imagery)
    // see the instantaneous direction, which meanders within the hour: shorter blocks of their own
    const double block_s = o.direction_block_s > 0 ? o.direction_block_s : 1e300;
    const double short_s = o.short_direction_block_s > 0 ? o.short_direction_block_s : block_s;
    std::uint32_t n_long = 0;
    for (const Observation& ob : set.obs)
      if (ob.averaging_s >= 600)
        n_long = std::max(n_long, 1 + static_cast<std::uint32_t>(std::floor((ob.t_start + 0.5 * ob.averaging_s - t_ref) / block_s)));
    for (const Observation& ob : set.obs) {
      const double tm = ob.t_start + 0.5 * ob.averaging_s - t_ref;
      const auto b = ob.averaging_s >= 600 ? static_cast<std::uint32_t>(std::floor(tm / block_s))
                                           : n_long + static_cast<std::uint32_t>(std::floor(tm / short_s));
      block_.push_back(b);
      blocks_ = std::max<std::size_t>(blocks_, b + 1);
    }
    const int nq = std::max(o.q_steps, 2);
    const double l0 = std::log(o.q_min_g_s), l1 = std::log(o.q_max_g_s);
    for (int k = 0; k < nq; ++k) q_.push_back(std::exp(l0 + (l1 - l0) * k / (nq - 1)));
    log_q0_ = l0;
    dlog_q_ = (l1 - l0) / (nq - 1);
  }

  /// Student-t log density of observation i given modelled plume part m (case units), times w.
  [[nodiscard]] double loglik(const ObsModel& m, double plume_mean) const noexcept {
    return obs_loglik(m, plume_mean, o_.sigma_model_log * o_.sigma_model_log, o_.student_nu);
  }

  /// score[q] = Σ_i (ℓ_i(q h_i) − ℓ_i(0)) over the column's non-zeros.
  /// score[b·nq + q] = Σ_{i in block b} (ℓ_i(q h_i) − ℓ_i(0)) over the column's non-zeros;
  /// touched[b] is set for blocks with a non-zero. Only every `stride`-th rate is scored (the
  /// others are left at 0 and must be ignored). @pre score has blocks()·nq entries.
  void score_single(const SparseColumn& col, double* score, std::vector<char>& touched,
                    std::size_t stride = 1) const noexcept {
    const std::size_t nq = q_.size();
    std::fill(score, score + blocks_ * nq, 0.0);
    touched.assign(blocks_, 0);
    for (std::size_t j = 0; j < col.index.size(); ++j) {
      const ObsModel& m = obs_[col.index[j]];
      const double h = o_.to_case_units * col.h_s_m3[j];
      const std::size_t b = block_[col.index[j]];
      touched[b] = 1;
      double* row = score + b * nq;
      const std::size_t k0 = first_rate(m, h, stride);
      add_loglik_row(m, h, q_.data(), k0, nq, stride, o_.sigma_model_log * o_.sigma_model_log,
                     o_.student_nu, row);
    }
  }
  /// score_single for several columns of one member at once (the same member under different
  /// release intervals): score[m] receives what score_single(*cols[m], score[m], touched[m],
  /// stride) gives, bit for bit, at the rates from k_floor on (a multiple of stride; below it
  /// the rows are left at 0: the caller's rate prior does not reach there), but an observation
  /// whose h is the same in several columns (a pass released inside every interval) has its row
  /// computed once.
  /// @pre cols.size() == score.size() == touched.size(); each score[m] has blocks()·nq entries.
  void score_single_multi(const std::vector<const SparseColumn*>& cols, const std::vector<double*>& score,
                          std::vector<std::vector<char>>& touched, std::size_t stride, std::size_t k_floor,
                          std::vector<double>& row_tmp) const noexcept {
    assert(k_floor % stride == 0);
    assert(cols.size() == score.size() && cols.size() == touched.size());
    const std::size_t nm = cols.size(), nq = q_.size();
    for (std::size_t m = 0; m < nm; ++m) {
      std::fill(score[m], score[m] + blocks_ * nq, 0.0);
      touched[m].assign(blocks_, 0);
    }
    row_tmp.resize(nq);
    const double s2m = o_.sigma_model_log * o_.sigma_model_log;
    constexpr std::size_t kMaxColumns = 16;
    assert(nm <= kMaxColumns);
    std::size_t pos[kMaxColumns] = {};
    float hs[kMaxColumns];
    bool has[kMaxColumns];
    while (true) {
      // the next observation in any column (each column is sorted by observation)
      std::uint32_t i = std::numeric_limits<std::uint32_t>::max();
      for (std::size_t m = 0; m < nm; ++m)
        if (pos[m] < cols[m]->index.size()) i = std::min(i, cols[m]->index[pos[m]]);
      if (i == std::numeric_limits<std::uint32_t>::max()) break;
      for (std::size_t m = 0; m < nm; ++m) {
        has[m] = pos[m] < cols[m]->index.size() && cols[m]->index[pos[m]] == i;
        if (has[m]) hs[m] = cols[m]->h_s_m3[pos[m]++];
      }
      const ObsModel& om = obs_[i];
      const std::size_t b = block_[i];
      for (std::size_t m = 0; m < nm; ++m) {
        if (!has[m]) continue;
        std::size_t same = 0;
        for (std::size_t m2 = m + 1; m2 < nm; ++m2) same += has[m2] && hs[m2] == hs[m];
        const double h = o_.to_case_units * hs[m];
        const std::size_t k0 = std::max(first_rate(om, h, stride), k_floor);
        touched[m][b] = 1;
        if (same == 0) {
          add_loglik_row(om, h, q_.data(), k0, nq, stride, s2m, o_.student_nu, score[m] + b * nq);
          continue;
        }
        std::fill(row_tmp.begin() + static_cast<std::ptrdiff_t>(std::min(k0, nq)), row_tmp.end(), 0.0);
        add_loglik_row(om, h, q_.data(), k0, nq, stride, s2m, o_.student_nu, row_tmp.data());
        for (std::size_t m2 = m; m2 < nm; ++m2) {
          if (!has[m2] || hs[m2] != hs[m]) continue;
          touched[m2][b] = 1;
          double* row = score[m2] + b * nq;
          for (std::size_t k = k0; k < nq; k += stride) row[k] += row_tmp[k];
          if (m2 != m) has[m2] = false;  // done
        }
      }
    }
  }
  [[nodiscard]] std::size_t blocks() const noexcept { return blocks_; }
  /// temper_grid[e] / temper for each e; empty unless calibrating
  [[nodiscard]] const std::vector<double>& temper_ratios() const noexcept { return ratio_; }
  /// 1 / temper: turns a score back into the untempered log-likelihood
  [[nodiscard]] double untempered_ratio() const noexcept { return untempered_ratio_; }
  /// Σ_i of the untempered "no release" log-likelihood (each observation's own weight kept)
  [[nodiscard]] double baseline_log_likelihood() const noexcept {
    double s = 0;
    for (const ObsModel& m : obs_) s += m.l0;
    return s * untempered_ratio_;
  }
  [[nodiscard]] std::size_t block_of(std::size_t i) const noexcept { return block_[i]; }

  [[nodiscard]] const std::vector<double>& q() const noexcept { return q_; }
  [[nodiscard]] double to_case_units() const noexcept { return o_.to_case_units; }
  [[nodiscard]] const ObsModel& obs(std::size_t i) const noexcept { return obs_[i]; }

 private:
  /// The first rate index (a multiple of stride) worth scoring for an observation with
  /// sensitivity h: rates whose plume is below kNegligiblePlumeFraction of the background level
  /// change nothing and are skipped.
  [[nodiscard]] std::size_t first_rate(const ObsModel& m, double h, std::size_t stride) const noexcept {
    const std::size_t nq = q_.size();
    const double thr = tuning::kNegligiblePlumeFraction * (m.b + m.c);
    std::size_t k0 = 0;
    if (h > 0 && q_[0] * h < thr) {
      const double kk = std::ceil((std::log(thr / h) - log_q0_) / dlog_q_);
      k0 = kk >= static_cast<double>(nq) ? nq : static_cast<std::size_t>(std::max(kk, 0.0));
      k0 = (k0 + stride - 1) / stride * stride;
    }
    return k0;
  }
  const InversionOptions& o_;
  std::vector<ObsModel> obs_;
  std::vector<double> q_;
  double log_q0_{}, dlog_q_{1};
  std::vector<std::uint32_t> block_;
  std::size_t blocks_{1};
  std::vector<double> ratio_;
  double untempered_ratio_{1};
};

/// log(exp(a) + exp(b)) with −inf handled.
inline double log_add(double a, double b) noexcept {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return std::max(a, b) + std::log1p(std::exp(-std::abs(a - b)));
}

/// Posterior over the q grid from log weights; percentiles by log-linear interpolation of the CDF.
RateEstimate rate_from_log_weights(const std::vector<double>& q, const std::vector<double>& logw) {
  const double lse = log_sum_exp(logw.data(), logw.size());
  RateEstimate r;
  if (!std::isfinite(lse)) return r;
  std::vector<double> cdf(q.size());
  double acc = 0;
  for (std::size_t k = 0; k < q.size(); ++k) {
    acc += std::exp(logw[k] - lse);
    cdf[k] = acc;
  }
  auto pct = [&](double p) {
    for (std::size_t k = 0; k < q.size(); ++k) {
      if (cdf[k] >= p) {
        if (k == 0) return q[0];
        const double c0 = cdf[k - 1], c1 = cdf[k];
        const double f = c1 > c0 ? (p - c0) / (c1 - c0) : 0.0;
        // bin k spans [q_{k-1}, q_k] in log space
        return std::exp(std::log(q[k - 1]) + f * (std::log(q[k]) - std::log(q[k - 1])));
      }
    }
    return q.back();
  };
  r.estimate = pct(0.5);
  r.p05 = pct(0.05);
  r.p95 = pct(0.95);
  return r;
}

/// Result of scoring one site: log marginal likelihood, per-q log weights (members summed), best member.
struct SiteScore {
  double log_marginal{kNegInf};
  std::vector<double> log_q;  ///< log Σ_k w_k exp(score_k(q)) − log Nq (−inf below q_detect)
  int best_member{};
  /// Smallest rate (g/s) whose plume reaches kDetectableNoiseMultiple noise levels at some
  /// observation in some member: the rate prior of "this site released" starts here. +inf when
  /// no observation can see the site.
  double q_detect{std::numeric_limits<double>::infinity()};
  std::vector<SparseColumn> cols;
  /// the release interval whose term dominates the site's marginal likelihood
  EpochSeconds release_start{}, release_end{};
  /// Only when the Scorer calibrates (E = temper_grid values, B = Scorer::blocks()):
  /// eta_log_q[e·nq + q] and eta_log_marginal[e] are log_q and log_marginal under tempering e;
  /// loo_num[e·B + b] = log Σ_q π(q) p_e(y_−b | q) p(y_b | q) and loo_den[e·B + b] =
  /// log Σ_q π(q) p_e(y_−b | q), where p_e is tempered by e and p(y_b | q) is not (both relative
  /// to the no-source likelihood, like every score here): the site's part of the held-out
  /// predictive of direction block b.
  std::vector<double> eta_log_q, eta_log_marginal, loo_num, loo_den;
};

/// out = log(exp(out) + exp(lw + in)) element by element, for the calibration arrays of SiteScore.
/// @pre out.size() == in.size() (or in is empty: nothing to add)
void log_add_into(std::vector<double>& out, double lw, const std::vector<double>& in) noexcept {
  assert(in.empty() || out.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = log_add(out[i], lw + in[i]);
}

/// The rate at which a site's plume first stands kDetectableNoiseMultiple noise levels above
/// background at one of its observations (the median a sample of that averaging time sees), in
/// the most favourable member; +inf when no column has a non-zero.
double detectable_rate_g_s(const std::vector<SparseColumn>& cols, const Scorer& sc) {
  double best = std::numeric_limits<double>::infinity();
  for (const SparseColumn& col : cols)
    for (std::size_t j = 0; j < col.index.size(); ++j) {
      const ObsModel& m = sc.obs(col.index[j]);
      const double plume_per_g_s = sc.to_case_units() * col.h_s_m3[j] * m.median_factor;
      if (plume_per_g_s > 0) best = std::min(best, tuning::kDetectableNoiseMultiple * m.noise / plume_per_g_s);
    }
  return best;
}

/// Sensitivity (case units per g/s) of each touched observation to a steady release in each
/// block [block_starts[b], block_starts[b+1]), per ensemble member, from one site's timed columns.
struct BlockSensitivity {
  std::vector<std::uint32_t> obs;   ///< observations touched (sorted)
  std::size_t blocks{};
  std::vector<double> h;            ///< h[(k · blocks + b) · obs.size() + i]
  [[nodiscard]] const double* row(std::size_t k, std::size_t b) const noexcept {
    return h.data() + (k * blocks + b) * obs.size();  // no observations: an empty row
  }
};

BlockSensitivity block_sensitivity(const TimedColumns& timed, const std::vector<EpochSeconds>& block_starts,
                                   double to_case_units) {
  assert(block_starts.size() >= 2);
  BlockSensitivity bs;
  // the observations any member touches, sorted: marked, then read in order (cheaper than
  // sorting the members' entries, which repeat each observation once per pass and member)
  std::uint32_t n_obs = 0;
  for (const auto& m : timed.member)
    if (!m.index.empty()) n_obs = std::max(n_obs, m.index.back() + 1);  // each member's is sorted
  std::vector<char> seen(n_obs, 0);
  for (const auto& m : timed.member)
    for (std::uint32_t i : m.index) seen[i] = 1;
  for (std::uint32_t i = 0; i < n_obs; ++i)
    if (seen[i]) bs.obs.push_back(i);
  const std::size_t nb = block_starts.size() - 1, no = bs.obs.size();
  bs.blocks = nb;
  bs.h.assign(timed.member.size() * nb * no, 0.0);
  std::vector<double> path_max(nb), weight(nb);
  for (std::size_t k = 0; k < timed.member.size(); ++k) {
    const auto& m = timed.member[k];
    double* hk = bs.h.data() + k * nb * no;  // &h[...] of an empty vector is undefined
    std::size_t i = 0;
    std::fill(path_max.begin(), path_max.end(), 0.0);
    for (std::size_t e = 0; e < m.index.size(); ++e) {
      while (bs.obs[i] != m.index[e]) ++i;  // both sorted
      const double h = to_case_units * m.h_s_m3[e];
      // a path's passes: the largest in each block. Only blocks within kReleaseEdgeSigmas edge
      // widths of the release time (one more each side, for rounding) can have a non-zero weight.
      const double reach_s = kReleaseEdgeSigmas * m.edge_s[e];
      const auto lo = std::upper_bound(block_starts.begin(), block_starts.end(), m.t_release[e] - reach_s);
      const auto hi = std::upper_bound(block_starts.begin(), block_starts.end(), m.t_release[e] + reach_s);
      const std::size_t b_lo = static_cast<std::size_t>(std::max<std::ptrdiff_t>(lo - block_starts.begin() - 2, 0));
      const std::size_t b_hi = std::min<std::size_t>(static_cast<std::size_t>(hi - block_starts.begin()) + 1, nb);
      if (b_lo < b_hi) release_weights(m.t_release[e], m.edge_s[e], block_starts.data(), b_lo, b_hi, weight.data());
      for (std::size_t b = b_lo; b < b_hi; ++b) path_max[b] = std::max(path_max[b], h * weight[b - b_lo]);
      if (e + 1 == m.index.size() || m.index[e + 1] != m.index[e] || m.path[e + 1] != m.path[e]) {
        for (std::size_t b = 0; b < nb; ++b) hk[b * no + i] += path_max[b];
        std::fill(path_max.begin(), path_max.end(), 0.0);
      }
    }
  }
  return bs;
}

/// Release profile of one site: for each ensemble member, the weighted NNLS (cyclic coordinate
/// descent) of the observations' plume parts on that member's block sensitivities,
/// min Σ_i w_i (e_i − Σ_b q_b h_bi)², q ≥ 0, weights 1 / (n² + (f e_i⁺)²) with f =
/// kProfileModelErrorFraction; the member whose fit is best (weighted squared residual less
/// 2 ln of its prior weight) gives the profile. One member, not their mean: the mean of rotated
/// plumes is a smear that puts plume on the stations the real one missed. Returns q_b (g/s).
std::vector<double> nnls_profile(const BlockSensitivity& bs, const std::vector<double>& member_weight,
                                 const ObservationSet& obs, std::vector<double>* information = nullptr) {
  const std::size_t no = bs.obs.size(), nb = bs.blocks;
  std::vector<double> e(no), w(no), noise(no);
  for (std::size_t i = 0; i < no; ++i) {
    const Observation& ob = obs.obs[bs.obs[i]];
    const Platform& p = obs.platforms[static_cast<std::size_t>(ob.platform)];
    e[i] = ob.value - p.background - ob.usual;
    const double model = tuning::kProfileModelErrorFraction * std::max(e[i], 0.0);
    w[i] = 1.0 / (p.noise * p.noise + model * model);
    noise[i] = p.noise;
  }
  std::vector<double> best_q(nb, 0.0), q(nb), resid(no), hh(nb);
  // each block's non-zero sensitivities (an observation sees the release of a block or two):
  // the sweeps touch only these; the zeros would add exact zeros
  std::vector<std::uint32_t> nz_i;
  std::vector<double> nz_h;
  std::vector<std::size_t> nz_start(nb + 1);
  double best_cost = std::numeric_limits<double>::infinity();
  std::size_t best_k = member_weight.size();
  for (std::size_t k = 0; k < member_weight.size(); ++k) {
    if (!(member_weight[k] > 0)) continue;
    std::fill(q.begin(), q.end(), 0.0);
    std::fill(hh.begin(), hh.end(), 0.0);
    resid = e;
    nz_i.clear();
    nz_h.clear();
    for (std::size_t b = 0; b < nb; ++b) {
      nz_start[b] = nz_i.size();
      const double* hb = bs.row(k, b);
      for (std::size_t i = 0; i < no; ++i)
        if (hb[i] != 0) {
          nz_i.push_back(static_cast<std::uint32_t>(i));
          nz_h.push_back(hb[i]);
          hh[b] += w[i] * hb[i] * hb[i];
        }
    }
    nz_start[nb] = nz_i.size();
    constexpr int kSweeps = 200;  // converges in a few dozen sweeps for a handful of blocks
    for (int sweep = 0; sweep < kSweeps; ++sweep) {
      double change = 0;
      for (std::size_t b = 0; b < nb; ++b) {
        if (!(hh[b] > 0)) continue;
        const std::size_t n0 = nz_start[b], n1 = nz_start[b + 1];
        double g = 0;
        for (std::size_t n = n0; n < n1; ++n) g += w[nz_i[n]] * nz_h[n] * resid[nz_i[n]];
        const double qn = std::max(0.0, q[b] + g / hh[b]);
        const double dq = qn - q[b];
        if (dq != 0) {
          for (std::size_t n = n0; n < n1; ++n) resid[nz_i[n]] -= dq * nz_h[n];
          change = std::max(change, std::abs(dq) / std::max(qn, 1e-12));
          q[b] = qn;
        }
      }
      if (change < 1e-6) break;
    }
    double cost = -2.0 * std::log(member_weight[k]);
    for (std::size_t i = 0; i < no; ++i) cost += w[i] * resid[i] * resid[i];
    if (cost < best_cost) {
      best_cost = cost;
      best_q = q;
      best_k = k;
    }
  }
  if (information != nullptr) {
    // what the network could tell about each block whatever it saw: Σ h² / n² for the chosen
    // member (the fit's weights also hold the model error of the observed plume, which is large
    // exactly where a release was seen)
    information->assign(nb, 0.0);
    for (std::size_t b = 0; b < nb && best_k < member_weight.size(); ++b) {
      const double* hb = bs.row(best_k, b);
      for (std::size_t i = 0; i < no; ++i) (*information)[b] += hb[i] * hb[i] / (noise[i] * noise[i]);
    }
  }
  return best_q;
}

/// Blocks [b0, b1] of the release period of a profile: from the first to the last block whose
/// rate reaches kReleasePeriodFractionOfPeak of the peak. False when every rate is 0.
bool release_period_blocks(const std::vector<double>& q, std::size_t& b0, std::size_t& b1,
                           const std::vector<bool>* counted = nullptr) {
  const auto counts = [&](std::size_t b) { return counted == nullptr || (*counted)[b]; };
  double peak = 0;
  for (std::size_t b = 0; b < q.size(); ++b)
    if (counts(b)) peak = std::max(peak, q[b]);
  if (!(peak > 0)) return false;
  b0 = q.size();
  b1 = 0;
  for (std::size_t b = 0; b < q.size(); ++b)
    if (counts(b) && q[b] >= tuning::kReleasePeriodFractionOfPeak * peak) {
      b0 = std::min(b0, b);
      b1 = b;
    }
  return true;
}

/// The release-timing prior of every release hypothesis (InversionOptions): over the operator's
/// emission span, split into blocks (release_blocks), a release is steady over one interval of
/// whole blocks. Prior: kGivenWindowPrior on the analyst's window (when given),
/// kWholeSpanPrior on the whole span, the rest uniform over the B(B+1)/2 intervals of blocks.
/// Each site is scored on the given window, the whole span and the interval its own release
/// profile (NNLS) picks: a lower bound of the full mixture that keeps its largest terms.
struct ReleaseTiming {
  std::vector<EpochSeconds> blocks;
  bool has_given{false};
  EpochSeconds given_start{}, given_end{};
  double log_given{kNegInf}, log_interval{kNegInf}, log_whole{kNegInf};

  ReleaseTiming(const SourceReceptorOperator& op, const InversionOptions& o)
      : blocks(release_blocks(op.emit_start(), op.emit_end())) {
    const double nb = static_cast<double>(blocks.size() - 1);
    const double n_intervals = 0.5 * nb * (nb + 1);
    double rest = 1.0 - tuning::kWholeSpanPrior;
    if (o.given_start && o.given_end && *o.given_end > *o.given_start) {
      has_given = true;
      given_start = std::max(*o.given_start, blocks.front());
      given_end = std::min(*o.given_end, blocks.back());
      if (!(given_end > given_start)) has_given = false;
    }
    if (has_given) {
      log_given = std::log(tuning::kGivenWindowPrior);
      rest -= tuning::kGivenWindowPrior;
    }
    log_interval = std::log(rest / n_intervals);
    log_whole = std::log(tuning::kWholeSpanPrior + rest / n_intervals);
  }
};

/// SiteScore's calibration arrays from one site's member scores sd[(k·B + b)·nq + q] (tempered by
/// the Scorer's temper; td: which (member, block) the site touches; any: which blocks) and its
/// rate prior (o.q_detect, n_prior rates). The log-likelihood of block b under tempering e is
/// log Σ_k w_k exp(r_e sd) with r_e = temper_grid[e] / temper (the scores are linear in it), and
/// untempered with r = 1 / temper; a block the site does not reach contributes 0 to both.
void calibration_terms(const std::vector<double>& sd, const std::vector<char>& td, const std::vector<char>& any,
                       const std::vector<double>& wk, const Scorer& sc, std::size_t q_stride, std::size_t n_prior,
                       SiteScore& o) {
  const std::vector<double>& ratio = sc.temper_ratios();
  const std::size_t ne = ratio.size(), nb = sc.blocks(), nq = sc.q().size(), nk = wk.size();
  o.eta_log_q.assign(ne * nq, kNegInf);
  o.eta_log_marginal.assign(ne, kNegInf);
  o.loo_num.assign(ne * nb, kNegInf);
  o.loo_den.assign(ne * nb, kNegInf);
  if (n_prior == 0) return;
  const double log_prior_q = -std::log(static_cast<double>(n_prior));
  std::vector<std::size_t> rates;  // the rates of the prior's support
  for (std::size_t j = 0; j < nq; j += q_stride)
    if (sc.q()[j] >= o.q_detect) rates.push_back(j);
  const std::size_t nr = rates.size();
  std::vector<std::size_t> reached;
  for (std::size_t b = 0; b < nb; ++b)
    if (any[b]) reached.push_back(b);
  const std::size_t nbr = reached.size();
  // lt[(e·nbr + i)·nr + r]: block reached[i]'s log-likelihood at rate rates[r], tempered by e;
  // lu[i·nr + r] untempered
  std::vector<double> lt(ne * nbr * nr), lu(nbr * nr);
  // per block: s[k·nr + r], the member scores at the prior's rates (an untouched member scores
  // 0), and their maximum mx[r] over the members; each tempering's mixture is then a sum over the
  // members of contiguous rows (member-major, so that it vectorises)
  std::vector<double> s(nk * nr), mx(nr), acc(nr);
  for (std::size_t i = 0; i < nbr; ++i) {
    const std::size_t b = reached[i];
    std::fill(mx.begin(), mx.end(), kNegInf);
    for (std::size_t k = 0; k < nk; ++k) {
      double* sk = &s[k * nr];
      const double* src = &sd[(k * nb + b) * nq];
      if (td[k * nb + b])
        for (std::size_t r = 0; r < nr; ++r) sk[r] = src[rates[r]];
      else
        std::fill(sk, sk + nr, 0.0);
      for (std::size_t r = 0; r < nr; ++r) mx[r] = std::max(mx[r], sk[r]);
    }
    auto mixture = [&](double ratio_e, double* out) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t k = 0; k < nk; ++k) add_member_exp_row(&s[k * nr], mx.data(), ratio_e, wk[k], 0, nr, 1, acc.data());
      for (std::size_t r = 0; r < nr; ++r) out[r] = ratio_e * mx[r] + std::log(acc[r]);
    };
    for (std::size_t e = 0; e < ne; ++e) mixture(ratio[e], &lt[(e * nbr + i) * nr]);
    mixture(sc.untempered_ratio(), &lu[i * nr]);
  }
  std::vector<double> total(nr), term(nr);
  for (std::size_t e = 0; e < ne; ++e) {
    std::fill(total.begin(), total.end(), log_prior_q);
    for (std::size_t i = 0; i < nbr; ++i)
      for (std::size_t r = 0; r < nr; ++r) total[r] += lt[(e * nbr + i) * nr + r];
    for (std::size_t r = 0; r < nr; ++r) o.eta_log_q[e * nq + rates[r]] = total[r];
    const double marginal = log_sum_exp(total.data(), nr);
    o.eta_log_marginal[e] = marginal;
    std::fill(o.loo_num.begin() + static_cast<std::ptrdiff_t>(e * nb),
              o.loo_num.begin() + static_cast<std::ptrdiff_t>((e + 1) * nb), marginal);
    std::fill(o.loo_den.begin() + static_cast<std::ptrdiff_t>(e * nb),
              o.loo_den.begin() + static_cast<std::ptrdiff_t>((e + 1) * nb), marginal);
    for (std::size_t i = 0; i < nbr; ++i) {
      const double* l = &lt[(e * nbr + i) * nr];
      for (std::size_t r = 0; r < nr; ++r) term[r] = total[r] - l[r];
      o.loo_den[e * nb + reached[i]] = log_sum_exp(term.data(), nr);
      for (std::size_t r = 0; r < nr; ++r) term[r] += lu[i * nr + r];
      o.loo_num[e * nb + reached[i]] = log_sum_exp(term.data(), nr);
    }
  }
}

/// Score precomputed columns: the wind-direction member is marginalised independently in every
/// direction block (Scorer::blocks), the rate is shared by all blocks:
///   log p(y | site, q) = Σ_b log Σ_k w_k exp(score_k,b(q)).
/// With q_stride > 1 only every q_stride-th rate is scored (a coarser rate grid for the
/// unregistered-source search); log_q of the others stays −inf.
/// Several column sets (one site under several release intervals) are scored together:
/// out[m] is the score of *sets[m], and an observation's row shared by several sets (the same
/// sensitivity in each) is computed once (Scorer::score_single_multi). A set equal to an earlier
/// one is not scored again.
void score_columns(const std::vector<const std::vector<SparseColumn>*>& sets, const SourceReceptorOperator& op,
                   const Scorer& sc, std::vector<SiteScore>& out, std::size_t q_stride) {
  const std::size_t nq = sc.q().size();
  const std::size_t nb = sc.blocks();
  const auto& wk = op.member_weights();
  const std::size_t nk = wk.size();
  const std::size_t nm = sets.size();
  out.assign(nm, SiteScore{});
  // sets equal to an earlier one (every member's column the same) take its score
  std::vector<std::size_t> same_as(nm);
  std::vector<std::size_t> distinct;
  for (std::size_t m = 0; m < nm; ++m) {
    assert(sets[m]->size() == nk);
    same_as[m] = m;
    for (std::size_t d : distinct) {
      bool eq = true;
      for (std::size_t k = 0; k < nk && eq; ++k)
        eq = (*sets[m])[k].index == (*sets[d])[k].index && (*sets[m])[k].h_s_m3 == (*sets[d])[k].h_s_m3;
      if (eq) {
        same_as[m] = d;
        break;
      }
    }
    if (same_as[m] == m) distinct.push_back(m);
  }
  const std::size_t nd = distinct.size();
  // the rate prior is log-uniform over the detectable rates [q_detect, q_max] (smaller releases
  // are "no release" as far as these data can tell): only those rates are scored, from k_first[d]
  std::vector<double> q_detect(nd);
  std::vector<std::size_t> k_first(nd);
  std::size_t k_floor = (nq + q_stride - 1) / q_stride * q_stride;  // a multiple of the stride
  for (std::size_t d = 0; d < nd; ++d) {
    q_detect[d] = detectable_rate_g_s(*sets[distinct[d]], sc);
    std::size_t k = 0;
    while (k < nq && sc.q()[k] < q_detect[d]) k += q_stride;
    k_first[d] = k;
    k_floor = std::min(k_floor, k);
  }
  // scores[d][k][b][q]; touched_k[d][k][b]
  std::vector<std::vector<double>> scores(nd, std::vector<double>(nk * nb * nq));
  std::vector<std::vector<char>> touched_k(nd, std::vector<char>(nk * nb));
  std::vector<std::vector<char>> touched(nd);
  std::vector<const SparseColumn*> colp(nd);
  std::vector<double*> sp(nd);
  std::vector<double> row_tmp;
  for (std::size_t k = 0; k < nk; ++k) {
    for (std::size_t d = 0; d < nd; ++d) {
      colp[d] = &(*sets[distinct[d]])[k];
      sp[d] = &scores[d][k * nb * nq];
    }
    sc.score_single_multi(colp, sp, touched, q_stride, k_floor, row_tmp);
    for (std::size_t d = 0; d < nd; ++d)
      for (std::size_t b = 0; b < nb; ++b) touched_k[d][k * nb + b] = touched[d][b];
  }
  std::vector<double> total(nq), v(nq), mxv(nq), sumv(nq);
  std::vector<char> any(nb);
  for (std::size_t d = 0; d < nd; ++d) {
    SiteScore& o = out[distinct[d]];
    const std::vector<double>& sd = scores[d];
    const std::vector<char>& td = touched_k[d];
    const std::size_t j0 = std::min(k_first[d], nq);
    std::fill(any.begin(), any.end(), 0);
    double best = kNegInf;
    for (std::size_t k = 0; k < nk; ++k) {
      std::fill(total.begin(), total.end(), 0.0);
      for (std::size_t b = 0; b < nb; ++b) {
        if (!td[k * nb + b]) continue;
        any[b] = 1;
        for (std::size_t j = j0; j < nq; j += q_stride) total[j] += sd[(k * nb + b) * nq + j];
      }
      double member_lse = kNegInf;
      for (std::size_t j = j0; j < nq; j += q_stride) member_lse = log_add(member_lse, total[j]);
      if (member_lse > best) {
        best = member_lse;
        o.best_member = static_cast<int>(k);
      }
    }
    // log p = Σ_b log Σ_k w_k exp(score_k,b(q)); an untouched (member, block) scores 0, and blocks
    // no member touches contribute log Σ_k w_k = 0
    o.log_q.assign(nq, kNegInf);
    std::fill(v.begin(), v.end(), 0.0);
    // (member-major over contiguous rates, so that it vectorises; mx starts at 0, the score of
    // an untouched member)
    for (std::size_t b = 0; b < nb; ++b) {
      if (!any[b]) continue;
      std::fill(mxv.begin() + static_cast<std::ptrdiff_t>(j0), mxv.end(), 0.0);
      std::fill(sumv.begin() + static_cast<std::ptrdiff_t>(j0), sumv.end(), 0.0);
      for (std::size_t k = 0; k < nk; ++k) {
        if (!td[k * nb + b]) continue;
        const double* sk = &sd[(k * nb + b) * nq];
        for (std::size_t j = j0; j < nq; j += q_stride) mxv[j] = std::max(mxv[j], sk[j]);
      }
      for (std::size_t k = 0; k < nk; ++k)
        add_member_exp_row(td[k * nb + b] ? &sd[(k * nb + b) * nq] : nullptr, mxv.data(), 1.0, wk[k], j0, nq, q_stride,
                           sumv.data());
      for (std::size_t j = j0; j < nq; j += q_stride) v[j] += mxv[j] + std::log(sumv[j]);
    }
    o.q_detect = q_detect[d];
    std::size_t n_prior = 0;
    for (std::size_t j = 0; j < nq; j += q_stride)
      if (sc.q()[j] >= o.q_detect) ++n_prior;
    for (std::size_t j = 0; j < nq; j += q_stride)
      o.log_q[j] = sc.q()[j] >= o.q_detect ? v[j] - std::log(static_cast<double>(n_prior)) : kNegInf;
    o.log_marginal = n_prior > 0 ? log_sum_exp(o.log_q.data(), nq) : kNegInf;
    if (!sc.temper_ratios().empty()) calibration_terms(sd, td, any, wk, sc, q_stride, n_prior, o);
  }
  for (std::size_t m = 0; m < nm; ++m)
    if (same_as[m] != m) out[m] = out[same_as[m]];
}

/// Sizes SiteScore's calibration arrays for the Scorer, every term −inf (a sum of nothing yet).
void init_calibration(const Scorer& sc, SiteScore& out) {
  const std::size_t ne = sc.temper_ratios().size(), nb = sc.blocks(), nq = sc.q().size();
  out.eta_log_q.assign(ne * nq, kNegInf);
  out.eta_log_marginal.assign(ne, kNegInf);
  out.loo_num.assign(ne * nb, kNegInf);
  out.loo_den.assign(ne * nb, kNegInf);
}

/// Adds a component of weight exp(lw) to a mixture's calibration arrays (release intervals,
/// release heights): every term of SiteScore's is a sum over the mixture's components.
void add_calibration(double lw, const SiteScore& part, SiteScore& out) noexcept {
  log_add_into(out.eta_log_q, lw, part.eta_log_q);
  log_add_into(out.eta_log_marginal, lw, part.eta_log_marginal);
  log_add_into(out.loo_num, lw, part.loo_num);
  log_add_into(out.loo_den, lw, part.loo_den);
}

/// Score one site, its release timing marginalised (ReleaseTiming): log p(y | site) =
/// log Σ_m π_m p(y | site, interval m). log_q is the same mixture per rate; cols, best_member
/// and the release interval are those of the interval with the largest term.
void score_site(const SourceReceptorOperator& op, const Scorer& sc, const ReleaseTiming& timing,
                const ObservationSet& obs, double x, double y, double h, SiteScore& out, bool keep_columns,
                std::size_t q_stride = 1, const StackParams* stack = nullptr) {
  TimedColumns timed;
  op.timed_columns(x, y, h, timed, stack);
  struct Interval {
    EpochSeconds start, end;
    double log_prior;
  };
  std::vector<Interval> intervals;
  if (timing.has_given) intervals.push_back({timing.given_start, timing.given_end, timing.log_given});
  intervals.push_back({timing.blocks.front(), timing.blocks.back(), timing.log_whole});
  const std::size_t nblocks = timing.blocks.size() - 1;
  if (nblocks > 1) {
    const BlockSensitivity bs = block_sensitivity(timed, timing.blocks, sc.to_case_units());
    std::size_t b0 = 0, b1 = 0;
    if (release_period_blocks(nnls_profile(bs, op.member_weights(), obs), b0, b1)) {
      // the profile's period, and the same running on to the end of the span (a release still
      // going when the data end: its last hour is seen by few observations, and the profile
      // gives it to the block before) or from its start (going before the data began)
      const std::pair<std::size_t, std::size_t> picks[] = {{b0, b1}, {b0, nblocks - 1}, {0, b1}};
      for (const auto& [p0, p1] : picks) {
        if (p0 == 0 && p1 + 1 == nblocks) continue;  // the whole span, already in
        const Interval iv{timing.blocks[p0], timing.blocks[p1 + 1], timing.log_interval};
        if (std::none_of(intervals.begin(), intervals.end(),
                         [&](const Interval& o) { return o.start == iv.start && o.end == iv.end; }))
          intervals.push_back(iv);
      }
    }
  }
  const std::size_t nq = sc.q().size();
  out = SiteScore{};
  out.log_q.assign(nq, kNegInf);
  std::vector<std::vector<SparseColumn>> cols(intervals.size());
  std::vector<const std::vector<SparseColumn>*> sets;
  for (std::size_t m = 0; m < intervals.size(); ++m) {
    window_columns(timed, intervals[m].start, intervals[m].end, cols[m]);
    sets.push_back(&cols[m]);
  }
  std::vector<SiteScore> parts;
  score_columns(sets, op, sc, parts, q_stride);
  if (!sc.temper_ratios().empty()) init_calibration(sc, out);
  double best = kNegInf;
  for (std::size_t m = 0; m < intervals.size(); ++m) {
    const Interval& iv = intervals[m];
    const SiteScore& part = parts[m];
    const double term = iv.log_prior + part.log_marginal;
    add_calibration(iv.log_prior, part, out);

    out.log_marginal = log_add(out.log_marginal, term);
    for (std::size_t j = 0; j < nq; ++j) out.log_q[j] = log_add(out.log_q[j], iv.log_prior + part.log_q[j]);
    out.q_detect = std::min(out.q_detect, part.q_detect);
    if (term > best || out.release_end <= out.release_start) {
      best = term;
      out.best_member = part.best_member;
      out.release_start = iv.start;
      out.release_end = iv.end;
      if (keep_columns) out.cols = cols[m];
    }
  }
}

/// The spatial prior of the unregistered source over the search blocks (InversionOptions::
/// unlisted_hotspots): each block 1/nb of it, or with unmatched imagery hotspots, a share
/// tuning::kHotspotPriorShare of it in 2-D Gaussians (σ = max(kHotspotLocationSigmaM, one cell))
/// around them, shared by their weights and normalised over the grid, and the rest 1/nb per block.
class UnlistedPrior {
 public:
  UnlistedPrior(const Grid& grid, int st, int bcols, std::size_t nb, const std::vector<HotspotPrior>& hot)
      : grid_(grid), st_(st), bcols_(bcols), nb_(nb), hot_(hot),
        sigma_m_(std::max(tuning::kHotspotLocationSigmaM, grid.cell_m)) {
    for (const HotspotPrior& h : hot_) weight_sum_ += std::max(h.weight, 0.0);
    if (weight_sum_ > 0) {
      hot_total_ = hot_mass(grid.x0_m, grid.x1_m(), grid.y0_m(), grid.y1_m);
      if (hot_total_ > kMinHotMass) share_ = tuning::kHotspotPriorShare;
    }
  }
  /// Prior mass of block b (they sum to 1).
  [[nodiscard]] double block_mass(std::size_t b) const {
    const double uniform = (1.0 - share_) / static_cast<double>(nb_);
    if (share_ == 0) return uniform;
    const auto [r0, r1, c0, c1] = block_cells(b);
    return uniform + share_ * hot_mass(grid_.x0_m + c0 * grid_.cell_m, grid_.x0_m + c1 * grid_.cell_m,
                                       grid_.y1_m - r1 * grid_.cell_m, grid_.y1_m - r0 * grid_.cell_m) / hot_total_;
  }
  /// Log prior density at (x, y), up to a constant shared by every point (1/m²; the uniform part
  /// spread over a whole block of st × st cells).
  [[nodiscard]] double log_density(double x, double y) const {
    const double block_area = std::pow(st_ * grid_.cell_m, 2);
    double d = (1.0 - share_) / (static_cast<double>(nb_) * block_area);
    if (share_ > 0) {
      double g = 0;
      for (const HotspotPrior& h : hot_)
        g += std::max(h.weight, 0.0) *
             std::exp(-0.5 * (std::pow(x - h.x_m, 2) + std::pow(y - h.y_m, 2)) / (sigma_m_ * sigma_m_));
      d += share_ * g / (weight_sum_ * 2.0 * kPi * sigma_m_ * sigma_m_ * hot_total_);
    }
    return std::log(d);
  }
  /// The share of block b's prior mass (`block_mass`, as block_mass(b) gave it) in its cell (r, c).
  [[nodiscard]] double cell_share(std::size_t b, double block_mass, int r, int c) const {
    const auto [r0, r1, c0, c1] = block_cells(b);
    const double cells = static_cast<double>((r1 - r0) * (c1 - c0));
    if (share_ == 0) return 1.0 / cells;
    const double x0 = grid_.x0_m + c * grid_.cell_m, y1 = grid_.y1_m - r * grid_.cell_m;
    const double mass = (1.0 - share_) / (static_cast<double>(nb_) * cells) +
                        share_ * hot_mass(x0, x0 + grid_.cell_m, y1 - grid_.cell_m, y1) / hot_total_;
    return mass / block_mass;
  }
  [[nodiscard]] bool informed() const noexcept { return share_ > 0; }

 private:
  static constexpr double kPi = 3.14159265358979323846;
  /// Below this the hotspots' Gaussians miss the grid (they lie far outside it): ignored.
  static constexpr double kMinHotMass = 1e-9;
  struct Cells {
    int r0, r1, c0, c1;
  };
  [[nodiscard]] Cells block_cells(std::size_t b) const {
    const int br = static_cast<int>(b) / bcols_, bc = static_cast<int>(b) % bcols_;
    return {br * st_, std::min(grid_.rows, (br + 1) * st_), bc * st_, std::min(grid_.cols, (bc + 1) * st_)};
  }
  /// Σ_k w_k / Σw × the mass of hotspot k's Gaussian in [x0, x1] × [y0, y1].
  [[nodiscard]] double hot_mass(double x0, double x1, double y0, double y1) const {
    const double k = 1.0 / (sigma_m_ * std::sqrt(2.0));
    double m = 0;
    for (const HotspotPrior& h : hot_)
      m += std::max(h.weight, 0.0) * 0.25 * (std::erf((x1 - h.x_m) * k) - std::erf((x0 - h.x_m) * k)) *
           (std::erf((y1 - h.y_m) * k) - std::erf((y0 - h.y_m) * k));
    return m / weight_sum_;
  }
  const Grid& grid_;
  int st_, bcols_;
  std::size_t nb_;
  const std::vector<HotspotPrior>& hot_;
  double sigma_m_;
  double weight_sum_{0};
  double hot_total_{0};
  double share_{0};
};

}  // namespace

double units_per_g_m3(const std::string& units_in, const std::string& pollutant) {
  std::string u;
  for (char ch : units_in)
    if (ch != ' ') u.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  if (u.empty() || u == "ug/m3" || u == "µg/m3" || u == "μg/m3" || u == "ug/m^3" || u == "ugm-3") return 1e6;
  if (u == "mg/m3" || u == "mg/m^3") return 1e3;
  if (u == "ng/m3" || u == "ng/m^3") return 1e9;
  if (u == "g/m3" || u == "g/m^3") return 1.0;
  if (u == "ppb" || u == "ppm") {
    static const std::pair<const char*, double> kMolar[] = {
        {"so2", 64.066}, {"no2", 46.0055}, {"no", 30.006}, {"co", 28.010}, {"nh3", 17.031},
        {"h2s", 34.08},  {"o3", 47.997},   {"ch4", 16.04}, {"benzene", 78.11}, {"co2", 44.01}};
    for (const auto& [name, m] : kMolar)
      if (pollutant == name) return (u == "ppb" ? 24.45e6 : 24.45e3) / m;
    throw InvalidInput("units '" + units_in + "' need the molar mass of '" + pollutant +
                       "', which is not known; give concentrations in ug/m3");
  }
  throw InvalidInput("unsupported concentration units '" + units_in +
                     "' (use ug/m3, mg/m3, ng/m3, g/m3, ppb or ppm)");
}

std::vector<EpochSeconds> release_blocks(EpochSeconds span_start, EpochSeconds span_end) {
  assert(span_end > span_start);
  const double span = span_end - span_start;
  double block_s = tuning::kProfileBlockS;
  if (span / block_s < tuning::kMinProfileBlocks)
    block_s = std::max(span / tuning::kMinProfileBlocks, tuning::kMinProfileBlockS);
  const int nb = std::max(1, static_cast<int>(std::ceil(span / block_s - 1e-9)));
  std::vector<EpochSeconds> starts;
  for (int b = 0; b <= nb; ++b) starts.push_back(std::min(span_start + b * block_s, span_end));
  return starts;
}

ReleaseProfile release_profile_g_s(const SourceReceptorOperator& op, const ObservationSet& obs,
                                  const CandidateSite& site, const std::vector<EpochSeconds>& block_starts,
                                  double to_case_units) {
  assert(block_starts.size() >= 2);
  TimedColumns timed;
  op.timed_columns(site.x_m, site.y_m, site.h_m, timed, site.stack ? &*site.stack : nullptr);
  ReleaseProfile p;
  std::vector<double> info;
  p.rate_g_s = nnls_profile(block_sensitivity(timed, block_starts, to_case_units), op.member_weights(), obs, &info);
  // the typical block's information: the median (one close pass of a car can give one block
  // thousands of times the others')
  std::vector<double> sorted = info;
  std::sort(sorted.begin(), sorted.end());
  const double typical = sorted.empty() ? 0.0 : sorted[sorted.size() / 2];
  p.constrained.resize(p.rate_g_s.size());
  for (std::size_t b = 0; b < p.rate_g_s.size(); ++b)
    p.constrained[b] = typical > 0 && b < info.size() && info[b] >= tuning::kProfileMinInformationShare * typical;
  std::size_t b0 = 0, b1 = 0;
  if (release_period_blocks(p.rate_g_s, b0, b1, &p.constrained)) p.period_blocks = std::make_pair(b0, b1);
  return p;
}

UsualEmissions fit_usual_emissions(const SourceReceptorOperator& op, ObservationSet& obs,
                                   const std::vector<CandidateSite>& candidates, const InversionOptions& o) {
  UsualEmissions res;
  for (Observation& ob : obs.obs) ob.usual = 0;
  if (candidates.empty() || obs.obs.empty()) return res;
  // relative usual rates s_j: the registry's where given, else the median of those given, else 1 g/s
  std::vector<double> given;
  for (const CandidateSite& c : candidates)
    if (c.usual_g_s) given.push_back(*c.usual_g_s);
  res.permitted = given.size();
  double fill_g_s = 1.0;
  if (!given.empty()) {
    std::nth_element(given.begin(), given.begin() + static_cast<std::ptrdiff_t>(given.size() / 2), given.end());
    fill_g_s = given[given.size() / 2];
  }
  std::vector<double> s(candidates.size());
  double s_mean = 0;
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    s[j] = candidates[j].usual_g_s ? *candidates[j].usual_g_s : fill_g_s;
    s_mean += s[j] / static_cast<double>(candidates.size());
  }
  // U_i = Σ_j s_j H̄_ij (the member-weighted mean plume of a steady source over the whole span).
  // Each candidate's part is kept apart and summed in candidate order: the same bits on any
  // thread count.
  std::vector<std::vector<std::pair<std::uint32_t, double>>> part(candidates.size());
  const auto& wk = op.member_weights();
  parallel_for(candidates.size(), worker_threads(o.threads), [&](std::size_t j) {
    if (!(s[j] > 0)) return;
    std::vector<SparseColumn> cols;
    const CandidateSite& c = candidates[j];
    op.columns(c.x_m, c.y_m, c.h_m, cols, c.stack ? &*c.stack : nullptr);
    std::vector<std::pair<std::uint32_t, double>>& out = part[j];
    for (std::size_t k = 0; k < cols.size(); ++k)
      for (std::size_t n = 0; n < cols[k].index.size(); ++n)
        out.emplace_back(cols[k].index[n], wk[k] * s[j] * cols[k].h_s_m3[n]);
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  });
  std::vector<double> u(obs.obs.size(), 0.0);
  for (const auto& pj : part) {
    if (!pj.empty()) ++res.facilities;
    for (const auto& [i, v] : pj) u[i] += v;
  }
  SparseColumn col;
  for (std::size_t i = 0; i < u.size(); ++i)
    if (u[i] > 0) {
      col.index.push_back(static_cast<std::uint32_t>(i));
      col.h_s_m3.push_back(static_cast<float>(u[i]));
    }
  if (col.index.empty()) return res;
  // the common scale a by maximum likelihood on the rate grid (a multiplies s_j, so the grid's
  // "g/s" are multiples here), a = 0 included; with every rate from the registry, a <= 1: beyond
  // its permits a facility's emission is a release, not the usual
  const Scorer sc(obs, o);
  std::vector<double> score(sc.blocks() * sc.q().size());
  std::vector<char> touched;
  sc.score_single(col, score.data(), touched);
  const std::size_t nq = sc.q().size();
  const double a_max = res.permitted == candidates.size() ? 1.0 : tuning::kUsualScaleMax;
  double best = 0, best_a = 0;
  for (std::size_t k = 0; k < nq && sc.q()[k] <= a_max * (1 + 1e-9); ++k) {
    double total = 0;
    for (std::size_t b = 0; b < sc.blocks(); ++b) total += score[b * nq + k];
    if (total > best) {
      best = total;
      best_a = sc.q()[k];
    }
  }
  res.scale = best_a;
  res.mean_rate_g_s = best_a * s_mean;
  res.log_likelihood_gain = best;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double v = o.to_case_units * best_a * u[i];
    obs.obs[i].usual = v;
    res.max_usual = std::max(res.max_usual, v);
  }
  return res;
}

InversionResult invert(const SourceReceptorOperator& op, const ObservationSet& obs, const Grid& grid,
                       const std::vector<CandidateSite>& candidates, const InversionOptions& o) {
  const int threads = worker_threads(o.threads);
  const bool calibrate = !o.temper_grid.empty() && o.temper > 0;
  const Scorer sc(obs, o, calibrate);
  const ReleaseTiming timing(op, o);
  const auto& q = sc.q();
  const std::size_t nq = q.size();
  const std::size_t nc = candidates.size();
  InversionResult res;

  // 1. single registry candidates
  std::vector<SiteScore> single(nc);
  parallel_for(nc, threads, [&](std::size_t j) {
    score_site(op, sc, timing, obs, candidates[j].x_m, candidates[j].y_m, candidates[j].h_m, single[j], true, 1,
               candidates[j].stack ? &*candidates[j].stack : nullptr);
  });
  res.hypotheses += nc;
  double prior_sum = 0;
  for (const auto& c : candidates) prior_sum += std::max(c.prior, 0.0);
  if (prior_sum <= 0) prior_sum = 1;

  // 2. unregistered source: blocks of the analysis grid. Its release height is unknown: the
  // evidence is averaged over kUnlistedHeightsM (weights kUnlistedHeightWeights) at every stage
  // (block search, quadrature, peak refinement), so that registry and grid are scored alike.
  // the scorer of every stage after the tempering is chosen (calibrate: at first the calibrating one)
  const Scorer* scp = &sc;
  auto score_unlisted = [&](double x, double y, SiteScore& out, std::size_t q_stride) {
    constexpr std::size_t nh = std::size(tuning::kUnlistedHeightsM);
    SiteScore part;
    out = SiteScore{};
    out.log_q.assign(nq, kNegInf);
    if (!scp->temper_ratios().empty()) init_calibration(*scp, out);
    double lm = kNegInf;
    for (std::size_t k = 0; k < nh; ++k) {
      score_site(op, *scp, timing, obs, x, y, tuning::kUnlistedHeightsM[k], part, false, q_stride);
      const double lw = std::log(tuning::kUnlistedHeightWeights[k]);
      add_calibration(lw, part, out);
      lm = log_add(lm, lw + part.log_marginal);
      for (std::size_t i = 0; i < nq; ++i) out.log_q[i] = log_add(out.log_q[i], lw + part.log_q[i]);
      out.q_detect = std::min(out.q_detect, part.q_detect);
    }
    out.log_marginal = lm;
  };
  const int st = std::max(1, static_cast<int>(std::ceil(static_cast<double>(std::max(grid.rows, grid.cols)) /
                                                        std::max(o.grid_max_side, 1))));
  const int brows = (grid.rows + st - 1) / st, bcols = (grid.cols + st - 1) / st;
  const std::size_t nb = static_cast<std::size_t>(brows) * bcols;
  const UnlistedPrior uprior(grid, st, bcols, nb, o.unlisted_hotspots);
  std::vector<double> block_prior(nb);  // each block's prior mass, once (with hotspots: sums of erf)
  for (std::size_t b = 0; b < nb; ++b) block_prior[b] = uprior.block_mass(b);
  std::vector<double> block_lm(nb, kNegInf);
  std::vector<SiteScore> coarse(calibrate ? nb : 0);  // the blocks' calibration arrays
  parallel_for(nb, threads, [&](std::size_t b) {
    const int br = static_cast<int>(b) / bcols, bc = static_cast<int>(b) % bcols;
    const double cr = std::min((br + 0.5) * st, static_cast<double>(grid.rows)) - 0.5;
    const double cc = std::min((bc + 0.5) * st, static_cast<double>(grid.cols)) - 0.5;
    const double x = grid.x0_m + (cc + 0.5) * grid.cell_m;
    const double y = grid.y1_m - (cr + 0.5) * grid.cell_m;
    SiteScore s;
    score_unlisted(x, y, s, 4);
    block_lm[b] = s.log_marginal;
    if (calibrate) coarse[b] = std::move(s);
  });
  res.hypotheses += nb;

  // 2b. the tempering (InversionOptions::temper_grid): the held-out predictive check over
  // the single candidates, the coarse unregistered blocks and "no release" (pairs and the blocks'
  // finer quadrature come after it)
  // each hypothesis's log prior, shared by the check and the normalisation (4.)
  std::vector<double> log_prior_single(nc), log_prior_block(nb);
  for (std::size_t j = 0; j < nc; ++j)
    log_prior_single[j] = std::log(o.prior_single * std::max(candidates[j].prior, 1e-300) / prior_sum);
  for (std::size_t k = 0; k < nb; ++k) log_prior_block[k] = std::log(o.prior_unlisted * block_prior[k]);
  res.temper = o.temper;
  if (calibrate) {
    const std::size_t ne = o.temper_grid.size(), nbk = sc.blocks();
    std::vector<double> num(nc + nb + 1), den(nc + nb + 1);
    std::size_t best_e = 0;
    for (std::size_t e = 0; e < ne; ++e) {
      double score = 0;
      std::size_t folds = 0;
      for (std::size_t b = 0; b < nbk; ++b) {
        std::size_t n = 0;
        bool informative = false;
        for (std::size_t j = 0; j < nc; ++j) {
          num[n] = log_prior_single[j] + single[j].loo_num[e * nbk + b];
          den[n++] = log_prior_single[j] + single[j].loo_den[e * nbk + b];
          informative |= single[j].loo_num[e * nbk + b] != single[j].loo_den[e * nbk + b];
        }
        for (std::size_t k = 0; k < nb; ++k) {
          num[n] = log_prior_block[k] + coarse[k].loo_num[e * nbk + b];
          den[n++] = log_prior_block[k] + coarse[k].loo_den[e * nbk + b];
          informative |= coarse[k].loo_num[e * nbk + b] != coarse[k].loo_den[e * nbk + b];
        }
        num[n] = den[n] = std::log(o.prior_no_release);
        ++n;
        if (!informative) continue;  // no hypothesis reaches the block: it predicts alike under all
        ++folds;
        score += log_sum_exp(num.data(), n) - log_sum_exp(den.data(), n);
      }
      res.temper_scores.emplace_back(o.temper_grid[e], score);
      res.temper_folds = folds;
      if (score > res.temper_scores[best_e].second) best_e = e;
    }
    res.temper = o.temper_grid[best_e];
    res.held_out_log_density = res.temper_scores[best_e].second + sc.baseline_log_likelihood();
    if (res.temper != o.temper) {
      for (std::size_t j = 0; j < nc; ++j) {
        single[j].log_q.assign(single[j].eta_log_q.begin() + static_cast<std::ptrdiff_t>(best_e * nq),
                               single[j].eta_log_q.begin() + static_cast<std::ptrdiff_t>((best_e + 1) * nq));
        single[j].log_marginal = single[j].eta_log_marginal[best_e];
      }
      for (std::size_t k = 0; k < nb; ++k) block_lm[k] = coarse[k].eta_log_marginal[best_e];
    }
  }
  InversionOptions tuned = o;
  tuned.temper = res.temper;
  const Scorer sc_tuned(obs, tuned);
  scp = &sc_tuned;
  // Better quadrature where it matters: a block's evidence is the mean over its area, not its
  // centre's value. For the most likely blocks (a narrow plume can pass between centres),
  // average a 3 x 3 lattice of points over the block.
  {
    std::vector<std::size_t> by_lm(nb);
    std::iota(by_lm.begin(), by_lm.end(), 0);
    const std::size_t k_top = std::min<std::size_t>(tuning::kUnlistedRefineBlocks, nb);
    std::partial_sort(by_lm.begin(), by_lm.begin() + static_cast<std::ptrdiff_t>(k_top), by_lm.end(),
                      [&](std::size_t a, std::size_t b) {
                        return block_lm[a] + std::log(block_prior[a]) > block_lm[b] + std::log(block_prior[b]);
                      });
    std::vector<double> sub(k_top * 9, kNegInf);
    parallel_for(k_top * 9, threads, [&](std::size_t i) {
      const std::size_t b = by_lm[i / 9];
      const int br = static_cast<int>(b) / bcols, bc = static_cast<int>(b) % bcols;
      const double r0 = br * st, c0 = bc * st;
      const double r = std::min(r0 + (static_cast<double>(i % 9 / 3) + 0.5) * st / 3.0, grid.rows - 0.5) - 0.5;
      const double c = std::min(c0 + (static_cast<double>(i % 3) + 0.5) * st / 3.0, grid.cols - 0.5) - 0.5;
      SiteScore s;
      score_unlisted(grid.x0_m + (c + 0.5) * grid.cell_m, grid.y1_m - (r + 0.5) * grid.cell_m, s, 4);
      sub[i] = s.log_marginal;
    });
    for (std::size_t k = 0; k < k_top; ++k)
      block_lm[by_lm[k]] = log_sum_exp(&sub[k * 9], 9) - std::log(9.0);
    res.hypotheses += k_top * 9;
  }

  // 3. pairs among the top singles (a candidate no observation can see explains nothing, alone or
  // in a pair)
  std::vector<std::size_t> order(nc);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return single[a].log_marginal + std::log(std::max(candidates[a].prior, 1e-300)) >
           single[b].log_marginal + std::log(std::max(candidates[b].prior, 1e-300));
  });
  const std::size_t top = std::min<std::size_t>(static_cast<std::size_t>(std::max(o.pair_top, 0)), nc);
  std::vector<std::pair<std::size_t, std::size_t>> pair_ids;
  for (std::size_t a = 0; a < top; ++a)
    for (std::size_t b = a + 1; b < top; ++b)
      if (std::isfinite(single[order[a]].log_marginal) && std::isfinite(single[order[b]].log_marginal))
        pair_ids.emplace_back(order[a], order[b]);
  // Each member's rate in a pair is scored on its own grid around its single-source median
  // (kPairRateLow .. kPairRateHigh times it): the pair evidence then integrates where the
  // likelihood lives, corrected for the narrower prior range (log-uniform prior over the member's
  // detectable range [q_detect, q_max]).
  const std::size_t nq2 = static_cast<std::size_t>(tuning::kPairRateSteps);
  auto member_grid = [&](std::size_t j, double& log_range_frac) {
    const double q_lo = std::clamp(single[j].q_detect, o.q_min_g_s, o.q_max_g_s);
    const double full_w = std::max(std::log(o.q_max_g_s) - std::log(q_lo), 1e-9);
    const double med = rate_from_log_weights(q, single[j].log_q).estimate;
    const double centre = med > 0 ? med : q_lo;
    const double lo = std::max(q_lo, centre * tuning::kPairRateLow);
    const double hi = std::min(o.q_max_g_s, std::max(lo * 1.5, centre * tuning::kPairRateHigh));
    std::vector<double> g(nq2);
    for (std::size_t u = 0; u < nq2; ++u)
      g[u] = std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * static_cast<double>(u) / (nq2 - 1));
    log_range_frac = std::log((std::log(hi) - std::log(lo)) / full_w);
    return g;
  };
  struct PairScore {
    double log_marginal{kNegInf};
    std::vector<double> qa, qb;          ///< each member's rate grid
    std::vector<double> log_qa, log_qb;  ///< marginal log weights of each rate on its grid
  };
  std::vector<PairScore> pair_scores(pair_ids.size());
  const auto& wk = op.member_weights();
  parallel_for(pair_ids.size(), threads, [&](std::size_t pi) {
    const auto [a, b] = pair_ids[pi];
    PairScore& ps = pair_scores[pi];
    double frac_a = 0, frac_b = 0;
    ps.qa = member_grid(a, frac_a);
    ps.qb = member_grid(b, frac_b);
    const std::size_t nbk = sc_tuned.blocks();
    std::vector<double> acc2(nbk * nq2 * nq2, kNegInf), part(nbk * nq2 * nq2);
    std::vector<char> any(nbk, 0), touched(nbk);
    std::vector<double> ha, hb;
    std::vector<std::uint32_t> idx;
    for (std::size_t k = 0; k < wk.size(); ++k) {
      const SparseColumn& ca = single[a].cols[k];
      const SparseColumn& cb = single[b].cols[k];
      // union of the two sparse columns (both sorted by observation index)
      idx.clear();
      ha.clear();
      hb.clear();
      std::size_t i = 0, j = 0;
      while (i < ca.index.size() || j < cb.index.size()) {
        if (j >= cb.index.size() || (i < ca.index.size() && ca.index[i] < cb.index[j])) {
          idx.push_back(ca.index[i]);
          ha.push_back(ca.h_s_m3[i++]);
          hb.push_back(0);
        } else if (i >= ca.index.size() || cb.index[j] < ca.index[i]) {
          idx.push_back(cb.index[j]);
          ha.push_back(0);
          hb.push_back(cb.h_s_m3[j++]);
        } else {
          idx.push_back(ca.index[i]);
          ha.push_back(ca.h_s_m3[i++]);
          hb.push_back(cb.h_s_m3[j++]);
        }
      }
      std::fill(part.begin(), part.end(), 0.0);
      std::fill(touched.begin(), touched.end(), 0);
      for (std::size_t n = 0; n < idx.size(); ++n) {
        const ObsModel& m = sc_tuned.obs(idx[n]);
        const std::size_t blk = sc_tuned.block_of(idx[n]);
        touched[blk] = 1;
        double* row = &part[blk * nq2 * nq2];
        add_loglik_pair(m, ha[n], hb[n], o.to_case_units, ps.qa.data(), nq2, ps.qb.data(), nq2,
                        o.sigma_model_log * o.sigma_model_log, o.student_nu, row);
      }
      const double lw = std::log(wk[k]);
      for (std::size_t blk = 0; blk < nbk; ++blk) {
        any[blk] |= touched[blk];
        // an untouched block scores 0 for this member (part is 0 there)
        for (std::size_t uv = 0; uv < nq2 * nq2; ++uv)
          acc2[blk * nq2 * nq2 + uv] = log_add(acc2[blk * nq2 * nq2 + uv], lw + part[blk * nq2 * nq2 + uv]);
      }
    }
    // blocks no member touched sum to log Σ_k w_k = 0 and are skipped
    std::vector<double> grid2(nq2 * nq2, -2.0 * std::log(static_cast<double>(nq2)) + frac_a + frac_b);
    for (std::size_t blk = 0; blk < nbk; ++blk) {
      if (!any[blk]) continue;
      for (std::size_t uv = 0; uv < nq2 * nq2; ++uv) grid2[uv] += acc2[blk * nq2 * nq2 + uv];
    }
    ps.log_marginal = log_sum_exp(grid2.data(), grid2.size());
    ps.log_qa.assign(nq2, kNegInf);
    ps.log_qb.assign(nq2, kNegInf);
    for (std::size_t u = 0; u < nq2; ++u) {
      ps.log_qa[u] = log_sum_exp(&grid2[u * nq2], nq2);
      std::vector<double> colv(nq2);
      for (std::size_t v = 0; v < nq2; ++v) colv[v] = grid2[v * nq2 + u];
      ps.log_qb[u] = log_sum_exp(colv.data(), nq2);
    }
  });
  res.hypotheses += pair_ids.size();

  // 4. normalise over all hypotheses
  const double n_pairs_total = nc >= 2 ? 0.5 * static_cast<double>(nc) * static_cast<double>(nc - 1) : 1.0;
  std::vector<double> lp_single(nc), lp_pair(pair_ids.size()), lp_block(nb);
  std::vector<double> all;
  for (std::size_t j = 0; j < nc; ++j) {
    lp_single[j] = log_prior_single[j] + single[j].log_marginal;
    all.push_back(lp_single[j]);
  }
  if (nc >= 2)
    for (std::size_t p = 0; p < pair_ids.size(); ++p) {
      lp_pair[p] = std::log(o.prior_pair / n_pairs_total) + pair_scores[p].log_marginal;
      all.push_back(lp_pair[p]);
    }
  for (std::size_t b = 0; b < nb; ++b) {
    lp_block[b] = log_prior_block[b] + block_lm[b];
    all.push_back(lp_block[b]);
  }
  // "no release": nothing beyond background and the usual emissions. Every likelihood term
  // above is relative to the no-source likelihood, so this hypothesis scores exactly 0.
  const double lp_null = std::log(o.prior_no_release);
  all.push_back(lp_null);
  const double z = log_sum_exp(all.data(), all.size());
  res.no_release_probability = std::exp(lp_null - z);

  res.probability.assign(nc, 0.0);
  res.single_probability.assign(nc, 0.0);
  for (std::size_t j = 0; j < nc; ++j) res.release_interval.emplace_back(single[j].release_start, single[j].release_end);
  for (std::size_t j = 0; j < nc; ++j) res.probability[j] = res.single_probability[j] = std::exp(lp_single[j] - z);
  // per-candidate rate histogram: single part + pair marginals
  std::vector<std::vector<double>> rate_w(nc, std::vector<double>(nq, 0.0));
  for (std::size_t j = 0; j < nc; ++j) {
    const double lse = single[j].log_marginal;
    for (std::size_t k = 0; k < nq; ++k)
      rate_w[j][k] += res.single_probability[j] * std::exp(single[j].log_q[k] - lse);
  }
  if (nc >= 2)
    for (std::size_t p = 0; p < pair_ids.size(); ++p) {
      const double pp = std::exp(lp_pair[p] - z);
      const auto [a, b] = pair_ids[p];
      // split the pair's mass by how well each member explains the data alone (a logistic of
      // the single-hypothesis log evidence difference, capped to [0.1, 0.9] so both keep a share)
      const double wa = std::clamp(1.0 / (1.0 + std::exp(single[b].log_marginal - single[a].log_marginal)),
                                   tuning::kPairShareMin, 1.0 - tuning::kPairShareMin);
      res.probability[a] += wa * pp;
      res.probability[b] += (1.0 - wa) * pp;
      PairResult pr;
      pr.a = static_cast<int>(a);
      pr.b = static_cast<int>(b);
      pr.probability = pp;
      const double la = log_sum_exp(pair_scores[p].log_qa.data(), nq2);
      const double lb = log_sum_exp(pair_scores[p].log_qb.data(), nq2);
      const PairScore& ps = pair_scores[p];
      auto fine_index = [&](double v) {
        const double k = std::round((std::log(v) - std::log(q.front())) /
                                    ((std::log(q.back()) - std::log(q.front())) / static_cast<double>(nq - 1)));
        return static_cast<std::size_t>(std::clamp(k, 0.0, static_cast<double>(nq - 1)));
      };
      for (std::size_t u = 0; u < nq2; ++u) {
        rate_w[a][fine_index(ps.qa[u])] += pp * std::exp(ps.log_qa[u] - la);
        rate_w[b][fine_index(ps.qb[u])] += pp * std::exp(ps.log_qb[u] - lb);
      }
      pr.rate_a = rate_from_log_weights(ps.qa, ps.log_qa);
      pr.rate_b = rate_from_log_weights(ps.qb, ps.log_qb);
      res.pairs.push_back(pr);
    }
  std::sort(res.pairs.begin(), res.pairs.end(),
            [](const PairResult& x, const PairResult& y) { return x.probability > y.probability; });
  res.rate.resize(nc);
  for (std::size_t j = 0; j < nc; ++j) {
    std::vector<double> lw(nq);
    double tot = 0;
    for (std::size_t k = 0; k < nq; ++k) tot += rate_w[j][k];
    if (tot <= 0) {
      res.rate[j] = rate_from_log_weights(q, single[j].log_q);
      continue;
    }
    for (std::size_t k = 0; k < nq; ++k) lw[k] = rate_w[j][k] > 0 ? std::log(rate_w[j][k]) : kNegInf;
    res.rate[j] = rate_from_log_weights(q, lw);
  }
  double p_unl = 0;
  for (std::size_t b = 0; b < nb; ++b) p_unl += std::exp(lp_block[b] - z);
  res.unlisted_probability = p_unl;

  // observations explained, per candidate, with its best member and median rate (the top
  // candidate's modelled plume kept for every observation it reaches)
  res.explained.assign(nc, 0);
  res.explained_obs.assign(nc, {});
  res.top_modelled.assign(obs.obs.size(), 0.0);
  if (nc > 0) {
    res.best_member = single[order[0]].best_member;
    res.top_candidate = static_cast<int>(order[0]);
  }
  for (std::size_t j = 0; j < nc; ++j) {
    const SparseColumn& col = single[j].cols[static_cast<std::size_t>(single[j].best_member)];
    for (std::size_t n = 0; n < col.index.size(); ++n) {
      const Observation& ob = obs.obs[col.index[n]];
      const Platform& p = obs.platforms[static_cast<std::size_t>(ob.platform)];
      const double m = o.to_case_units * res.rate[j].estimate * col.h_s_m3[n];
      if (j == order[0]) res.top_modelled[col.index[n]] = m;
      const double level = tuning::kExplainedNoiseMultiple * p.noise;
      if (m >= level && ob.value - p.background - ob.usual >= level) {
        ++res.explained[j];
        res.explained_obs[j].push_back(col.index[n]);
      }
    }
  }

  // 5. grid posterior (registry aside): blocks spread evenly over their cells
  // (blocks by their posterior: evidence × spatial prior; with a uniform prior, the evidence)
  std::vector<double> block_lp(nb);
  for (std::size_t b = 0; b < nb; ++b) block_lp[b] = block_lm[b] + std::log(block_prior[b]);
  const double lbz = log_sum_exp(block_lp.data(), nb);
  res.grid_posterior.assign(grid.size(), 0.0f);
  std::size_t best_block = 0;
  for (std::size_t b = 0; b < nb; ++b) {
    if (block_lp[b] > block_lp[best_block]) best_block = b;
    const double pb = std::isfinite(lbz) ? std::exp(block_lp[b] - lbz) : block_prior[b];
    const int br = static_cast<int>(b) / bcols, bc = static_cast<int>(b) % bcols;
    const int r1 = std::min(grid.rows, (br + 1) * st), c1 = std::min(grid.cols, (bc + 1) * st);
    for (int r = br * st; r < r1; ++r)
      for (int c = bc * st; c < c1; ++c)
        res.grid_posterior[static_cast<std::size_t>(r) * grid.cols + c] = static_cast<float>(pb * uprior.cell_share(b, block_prior[b], r, c));
  }
  // refine the peak around the best block, coarse to fine: a 9 x 9 lattice over the 3 x 3
  // blocks around it, then 5 x 5 lattices of ever finer spacing around the best point, down to
  // one cell
  {
    const int br = static_cast<int>(best_block) / bcols, bc = static_cast<int>(best_block) % bcols;
    double cr = std::min((br + 0.5) * st, static_cast<double>(grid.rows)) - 0.5;  // fractional row
    double cc = std::min((bc + 0.5) * st, static_cast<double>(grid.cols)) - 0.5;
    double spacing = std::max(1.0, st / 3.0);
    int half = 4;
    SiteScore best_site;
    double best_lp = kNegInf;
    bool first_round = true;
    while (true) {
      std::vector<std::pair<double, double>> pts;
      for (int i = -half; i <= half; ++i)
        for (int j = -half; j <= half; ++j) {
          const double r = std::clamp(cr + i * spacing, 0.0, grid.rows - 1.0);
          const double c = std::clamp(cc + j * spacing, 0.0, grid.cols - 1.0);
          pts.emplace_back(r, c);
        }
      if (first_round && uprior.informed())  // the hotspots themselves are candidates for the peak
        for (const HotspotPrior& h : o.unlisted_hotspots)
          if (grid.contains(h.x_m, h.y_m))
            pts.emplace_back((grid.y1_m - h.y_m) / grid.cell_m - 0.5, (h.x_m - grid.x0_m) / grid.cell_m - 0.5);
      first_round = false;
      std::vector<SiteScore> fine(pts.size());
      parallel_for(pts.size(), threads, [&](std::size_t i) {
        score_unlisted(grid.x0_m + (pts[i].second + 0.5) * grid.cell_m,
                       grid.y1_m - (pts[i].first + 0.5) * grid.cell_m, fine[i], 1);
      });
      res.hypotheses += fine.size();
      for (std::size_t i = 0; i < fine.size(); ++i) {
        // the peak of the posterior: evidence × spatial prior (uniform: the evidence alone)
        const double lp = fine[i].log_marginal +
                          (uprior.informed() ? uprior.log_density(grid.x0_m + (pts[i].second + 0.5) * grid.cell_m,
                                                                  grid.y1_m - (pts[i].first + 0.5) * grid.cell_m)
                                             : 0.0);
        if (lp > best_lp) {
          best_lp = lp;
          best_site = std::move(fine[i]);
          cr = pts[i].first;
          cc = pts[i].second;
        }
      }
      if (spacing <= 1.0) break;
      spacing = std::max(1.0, spacing / 3.0);
      half = 2;
    }
    res.peak_x_m = grid.x0_m + (cc + 0.5) * grid.cell_m;
    res.peak_y_m = grid.y1_m - (cr + 0.5) * grid.cell_m;
    res.unlisted_rate = rate_from_log_weights(q, best_site.log_q);
  }
  {
    std::vector<float> sorted(res.grid_posterior);
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    double acc = 0;
    std::size_t n = 0;
    for (; n < sorted.size() && acc < 0.9; ++n) acc += sorted[n];
    res.area_m2_90 = static_cast<double>(n) * grid.cell_m * grid.cell_m;
  }
  return res;
}

}  // namespace plumetrace
