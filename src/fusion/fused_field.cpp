/// The fused field by simple kriging (fusion/fused_field.hpp).

#include "plumetrace/fusion/fused_field.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <Eigen/Dense>

#include "plumetrace/core/parallel.hpp"

namespace plumetrace {
namespace {

struct Datum {
  double x{}, y{};
  double excess{};
  double error_var{};
};

/// The data: fixed receptors (stations, open paths) as their mean excess over the window, every
/// other observation as itself.
std::vector<Datum> gather_data(const ObservationSet& set, EpochSeconds use_start, EpochSeconds use_end) {
  std::vector<Datum> out;
  struct Mean {
    double x{}, y{}, sum{};
    int n{};
  };
  std::map<int, Mean> fixed;
  for (const Observation& ob : set.obs) {
    if (ob.t_start + ob.averaging_s <= use_start || ob.t_start >= use_end) continue;
    const Platform& p = set.platforms[static_cast<std::size_t>(ob.platform)];
    const double excess = ob.value - p.background - ob.usual;
    if (ob.kind == ObservationKind::Station || ob.kind == ObservationKind::Path) {
      Mean& m = fixed[ob.platform];
      m.x = ob.x_m;
      m.y = ob.y_m;
      m.sum += excess;
      ++m.n;
      continue;
    }
    out.push_back({ob.x_m, ob.y_m, excess, p.noise * p.noise / std::max(ob.samples, 1)});
  }
  for (const auto& [platform, m] : fixed) {
    const double noise = set.platforms[static_cast<std::size_t>(platform)].noise;
    out.push_back({m.x, m.y, m.sum / m.n, noise * noise / m.n});
  }
  return out;
}

}  // namespace

FusedField fuse_on_grid(const ObservationSet& set, const Grid& grid, EpochSeconds use_start, EpochSeconds use_end,
                        int threads) {
  FusedField f;
  f.count.assign(grid.size(), 0.0F);
  for (const Observation& ob : set.obs) {
    if (ob.t_start + ob.averaging_s <= use_start || ob.t_start >= use_end || !grid.contains(ob.x_m, ob.y_m)) continue;
    f.count[static_cast<std::size_t>(grid.row_of(ob.y_m)) * grid.cols + grid.col_of(ob.x_m)] += 1.0F;
  }
  const std::vector<Datum> data = gather_data(set, use_start, use_end);
  f.data = data.size();
  f.length_m = std::max(kFusedCorrelationM, 2.0 * grid.cell_m);
  double mean_square = 0, mean_error = 0;
  for (const Datum& d : data) {
    mean_square += d.excess * d.excess;
    mean_error += d.error_var;
  }
  if (!data.empty()) {
    mean_square /= static_cast<double>(data.size());
    mean_error /= static_cast<double>(data.size());
  }
  const double sigma2 = std::max({mean_square - mean_error, kFusedMinSignalShare * mean_square, 1e-12});
  f.sigma = std::sqrt(sigma2);
  f.value.assign(grid.size(), 0.0F);
  f.uncertainty.assign(grid.size(), static_cast<float>(f.sigma));
  if (data.empty()) return f;

  // the data in buckets of one correlation length, for the neighbour search
  const double L = f.length_m, reach = kFusedSearchLengths * L;
  const int bw = std::max(1, static_cast<int>(std::ceil(grid.cols * grid.cell_m / L)));
  const int bh = std::max(1, static_cast<int>(std::ceil(grid.rows * grid.cell_m / L)));
  std::vector<std::vector<std::size_t>> bucket(static_cast<std::size_t>(bw) * bh);
  auto bucket_of = [&](double x, double y, int& bx, int& by) {
    bx = std::clamp(static_cast<int>(std::floor((x - grid.x0_m) / L)), 0, bw - 1);
    by = std::clamp(static_cast<int>(std::floor((grid.y1_m - y) / L)), 0, bh - 1);
  };
  for (std::size_t i = 0; i < data.size(); ++i) {
    int bx = 0, by = 0;
    bucket_of(data[i].x, data[i].y, bx, by);
    bucket[static_cast<std::size_t>(by) * bw + bx].push_back(i);
  }
  const int span = static_cast<int>(std::ceil(kFusedSearchLengths)) + 1;
  auto cov = [&](double d) { return sigma2 * std::exp(-d / L); };

  parallel_for(static_cast<std::size_t>(grid.rows), worker_threads(threads), [&](std::size_t row) {
    const int r = static_cast<int>(row);
    std::vector<std::pair<double, std::size_t>> near;
    for (int c = 0; c < grid.cols; ++c) {
      const double x = grid.x_center(c), y = grid.y_center(r);
      int bx = 0, by = 0;
      bucket_of(x, y, bx, by);
      near.clear();
      for (int j = std::max(0, by - span); j <= std::min(bh - 1, by + span); ++j)
        for (int i = std::max(0, bx - span); i <= std::min(bw - 1, bx + span); ++i)
          for (std::size_t k : bucket[static_cast<std::size_t>(j) * bw + i]) {
            const double d = std::hypot(data[k].x - x, data[k].y - y);
            if (d <= reach) near.emplace_back(d, k);
          }
      if (near.empty()) continue;  // the prior: 0 ± σ
      const std::size_t n = std::min<std::size_t>(near.size(), kFusedNeighbours);
      std::partial_sort(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(n), near.end());
      Eigen::MatrixXd a(n, n);
      Eigen::VectorXd cvec(n), e(n);
      for (std::size_t i = 0; i < n; ++i) {
        const Datum& di = data[near[i].second];
        cvec(static_cast<Eigen::Index>(i)) = cov(near[i].first);
        e(static_cast<Eigen::Index>(i)) = di.excess;
        for (std::size_t j = 0; j <= i; ++j) {
          const Datum& dj = data[near[j].second];
          const double v = cov(std::hypot(di.x - dj.x, di.y - dj.y)) + (i == j ? di.error_var : 0.0);
          a(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v;
          a(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i)) = v;
        }
      }
      // (C + R) is positive definite (R ≥ 0, C exponential); a tiny ridge keeps coincident error-free
      // data solvable
      a.diagonal().array() += 1e-9 * sigma2;
      const Eigen::LLT<Eigen::MatrixXd> llt(a);
      const Eigen::VectorXd w = llt.solve(cvec);
      const std::size_t k = row * static_cast<std::size_t>(grid.cols) + static_cast<std::size_t>(c);
      f.value[k] = static_cast<float>(w.dot(e));
      f.uncertainty[k] = static_cast<float>(std::sqrt(std::max(sigma2 - w.dot(cvec), 0.0)));
    }
  });
  return f;
}

}  // namespace plumetrace
