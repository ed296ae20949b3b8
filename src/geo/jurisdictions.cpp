/// @file jurisdictions.cpp
/// Repairing dirty administrative polygons (Boost.Geometry) and answering point-in-area queries fast.
///
/// Repair, per ring: drop repeated points, node the ring against itself (every crossing, touch and
/// collinear overlap becomes a shared vertex), cut the noded ring at repeated vertices into simple
/// loops, drop zero-area loops (spikes), and combine the loops of one polygon by symmetric
/// difference (the even-odd rule, as GEOS MakeValid does); the polygons of one feature are then
/// unioned. The result is checked with bg::is_valid.
///
/// Query: a uniform grid over the layer stores, per cell, the edges crossing it and the areas that
/// contain the cell centre. A point's area parity is the centre's parity toggled by the edges that
/// the two-leg path centre -> (x, y_centre) -> point crosses (half-open crossing rules, so vertices
/// are counted once). Most cells hold no edge, so a lookup is one array read; boundary cells cost a
/// few edge tests. Distances use a local equirectangular scale at the query latitude (WGS 84
/// meridian and parallel radii), accurate to ~0.1 % within a few km.

#include "plumetrace/geo/jurisdictions.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/geometry.hpp>
#include <boost/geometry/geometries/box.hpp>
#include <boost/geometry/geometries/multi_polygon.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <boost/geometry/index/rtree.hpp>

#include "plumetrace/core/error.hpp"

namespace plumetrace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

namespace {

using Pt = bg::model::d2::point_xy<double>;          // (lon, lat) degrees
using Poly = bg::model::polygon<Pt, false, true>;    // counter-clockwise outer rings, closed
using MPoly = bg::model::multi_polygon<Poly>;
using Ring = Poly::ring_type;
using Box = bg::model::box<Pt>;
using RtreeValue = std::pair<Box, std::uint32_t>;
using Rtree = bgi::rtree<RtreeValue, bgi::rstar<16>>;

constexpr double kPi = 3.14159265358979323846;

/// Metres per degree of longitude and of latitude at latitude `lat_deg` on the WGS 84 ellipsoid.
void metres_per_degree(double lat_deg, double& kx, double& ky) noexcept {
  constexpr double a = 6378137.0;
  constexpr double e2 = 6.69437999014e-3;
  const double phi = lat_deg * kPi / 180.0;
  const double s = std::sin(phi);
  const double w = 1.0 - e2 * s * s;
  kx = a / std::sqrt(w) * std::cos(phi) * kPi / 180.0;
  ky = a * (1.0 - e2) / (w * std::sqrt(w)) * kPi / 180.0;
}

struct Edge {
  double ax, ay, bx, by;
  std::uint32_t area;
};

/// x where the edge meets the horizontal line y (the caller checks that it straddles y).
inline double x_at(const Edge& e, double y) noexcept {
  return e.ax + (y - e.ay) * (e.bx - e.ax) / (e.by - e.ay);
}
/// y where the edge meets the vertical line x (the caller checks that it straddles x).
inline double y_at(const Edge& e, double x) noexcept {
  return e.ay + (x - e.ax) * (e.by - e.ay) / (e.bx - e.ax);
}
/// Half-open straddle rules: each vertex belongs to exactly one of its two edges.
inline bool straddles_y(const Edge& e, double y) noexcept { return (e.ay > y) != (e.by > y); }
inline bool straddles_x(const Edge& e, double x) noexcept { return (e.ax > x) != (e.bx > x); }

/// Squared distance in metres from (px, py) to the edge, scaled by kx, ky metres/degree.
inline double dist2_m(const Edge& e, double px, double py, double kx, double ky) noexcept {
  const double ax = (e.ax - px) * kx, ay = (e.ay - py) * ky;
  const double bx = (e.bx - px) * kx, by = (e.by - py) * ky;
  const double dx = bx - ax, dy = by - ay;
  const double len2 = dx * dx + dy * dy;
  double t = len2 > 0.0 ? -(ax * dx + ay * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const double x = ax + t * dx, y = ay + t * dy;
  return x * x + y * y;
}

// ---------------------------------------------------------------------------------------------
// Repair
// ---------------------------------------------------------------------------------------------

/// Exact orientation of (a, b, c): > 0 counter-clockwise. Exact for the quantised coordinates of
/// real boundary files (differences with few significant bits); a good approximation otherwise.
inline double orient(const Pt& a, const Pt& b, const Pt& c) noexcept {
  return (b.x() - a.x()) * (c.y() - a.y()) - (b.y() - a.y()) * (c.x() - a.x());
}

struct PtHash {
  std::size_t operator()(const std::pair<double, double>& p) const noexcept {
    const std::size_t h1 = std::hash<double>{}(p.first);
    const std::size_t h2 = std::hash<double>{}(p.second);
    return h1 ^ (h2 + 0x9e3779b97f4a7c15ULL + (h1 << 6) + (h1 >> 2));
  }
};

inline bool same(const Pt& a, const Pt& b) noexcept { return a.x() == b.x() && a.y() == b.y(); }

/// Parameter of p along segment a-b (projection), in [0, 1] for points on it.
inline double param_on(const Pt& a, const Pt& b, const Pt& p) noexcept {
  const double dx = b.x() - a.x(), dy = b.y() - a.y();
  const double len2 = dx * dx + dy * dy;
  return len2 > 0.0 ? ((p.x() - a.x()) * dx + (p.y() - a.y()) * dy) / len2 : 0.0;
}

/// True when p lies strictly inside segment a-b (collinear, between the end points).
inline bool strictly_on(const Pt& a, const Pt& b, const Pt& p) noexcept {
  if (orient(a, b, p) != 0.0) return false;
  if (same(p, a) || same(p, b)) return false;
  return std::min(a.x(), b.x()) <= p.x() && p.x() <= std::max(a.x(), b.x()) &&
         std::min(a.y(), b.y()) <= p.y() && p.y() <= std::max(a.y(), b.y());
}

/// Node a closed ring against itself: every proper crossing, vertex-on-edge touch and collinear
/// overlap becomes a vertex of both segments involved. `pts` is open (first != last), no repeated
/// consecutive points. Returns the noded ring, open.
std::vector<Pt> node_ring(const std::vector<Pt>& pts) {
  const std::size_t n = pts.size();
  std::vector<std::vector<std::pair<double, Pt>>> inserts(n);  // per segment: (t, point)
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto seg_a = [&](std::size_t i) -> const Pt& { return pts[i]; };
  auto seg_b = [&](std::size_t i) -> const Pt& { return pts[(i + 1) % n]; };
  auto xmin = [&](std::size_t i) { return std::min(seg_a(i).x(), seg_b(i).x()); };
  auto xmax = [&](std::size_t i) { return std::max(seg_a(i).x(), seg_b(i).x()); };
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return xmin(i) < xmin(j); });
  for (std::size_t oi = 0; oi < n; ++oi) {
    const std::size_t i = order[oi];
    const Pt &a = seg_a(i), &b = seg_b(i);
    const double ymin_i = std::min(a.y(), b.y()), ymax_i = std::max(a.y(), b.y());
    for (std::size_t oj = oi + 1; oj < n && xmin(order[oj]) <= xmax(i); ++oj) {
      const std::size_t j = order[oj];
      const Pt &c = seg_a(j), &d = seg_b(j);
      if (std::max(c.y(), d.y()) < ymin_i || std::min(c.y(), d.y()) > ymax_i) continue;
      const double o1 = orient(a, b, c), o2 = orient(a, b, d);
      const double o3 = orient(c, d, a), o4 = orient(c, d, b);
      if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) {
        // proper crossing: one computed point shared by both segments
        const double t = o3 / (o3 - o4);
        Pt x(a.x() + t * (b.x() - a.x()), a.y() + t * (b.y() - a.y()));
        if (same(x, a) || same(x, b) || same(x, c) || same(x, d)) {
          // rounding put the crossing on an end point: node the end point into the other segment
          if (same(x, a) || same(x, b)) inserts[j].emplace_back(param_on(c, d, x), x);
          if (same(x, c) || same(x, d)) inserts[i].emplace_back(param_on(a, b, x), x);
          continue;
        }
        inserts[i].emplace_back(t, x);
        inserts[j].emplace_back(o1 / (o1 - o2), x);
        continue;
      }
      if (strictly_on(a, b, c)) inserts[i].emplace_back(param_on(a, b, c), c);
      if (strictly_on(a, b, d)) inserts[i].emplace_back(param_on(a, b, d), d);
      if (strictly_on(c, d, a)) inserts[j].emplace_back(param_on(c, d, a), a);
      if (strictly_on(c, d, b)) inserts[j].emplace_back(param_on(c, d, b), b);
    }
  }
  std::vector<Pt> out;
  out.reserve(n + n / 8);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(pts[i]);
    auto& ins = inserts[i];
    std::sort(ins.begin(), ins.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
    for (const auto& [t, p] : ins) {
      if (same(p, out.back()) || same(p, seg_b(i))) continue;
      out.push_back(p);
    }
  }
  return out;
}

/// Cut a noded closed ring (open representation) at repeated vertices into loops without repeated
/// vertices. Each loop is returned closed.
std::vector<std::vector<Pt>> split_loops(const std::vector<Pt>& noded) {
  std::vector<std::vector<Pt>> loops;
  std::vector<Pt> stack;
  std::unordered_map<std::pair<double, double>, std::size_t, PtHash> pos;
  auto visit = [&](const Pt& q) {
    const auto key = std::make_pair(q.x(), q.y());
    auto it = pos.find(key);
    if (it == pos.end()) {
      pos.emplace(key, stack.size());
      stack.push_back(q);
      return;
    }
    const std::size_t k = it->second;
    std::vector<Pt> loop(stack.begin() + static_cast<std::ptrdiff_t>(k), stack.end());
    loop.push_back(q);
    for (std::size_t m = k + 1; m < stack.size(); ++m) pos.erase(std::make_pair(stack[m].x(), stack[m].y()));
    stack.resize(k + 1);
    if (loop.size() >= 4) loops.push_back(std::move(loop));
  };
  for (const Pt& q : noded) visit(q);
  if (!noded.empty()) visit(noded.front());
  return loops;
}

/// Signed area (degrees squared) of a closed loop, positive counter-clockwise.
double signed_area(const std::vector<Pt>& loop) {
  double s = 0.0;
  for (std::size_t i = 0; i + 1 < loop.size(); ++i)
    s += (loop[i].x() - loop[0].x()) * (loop[i + 1].y() - loop[0].y()) -
         (loop[i + 1].x() - loop[0].x()) * (loop[i].y() - loop[0].y());
  return 0.5 * s;
}

/// Smallest loop area kept, in square degrees (about 0.01 m^2): smaller loops are spikes/noise.
constexpr double kMinLoopArea = 1e-12;

/// The even-odd area of a set of (possibly self-intersecting) rings, as a valid multipolygon.
MPoly even_odd_area(const std::vector<std::vector<Pt>>& rings) {
  std::vector<std::pair<double, MPoly>> parts;  // (|area|, loop)
  for (const auto& raw : rings) {
    std::vector<Pt> pts;
    pts.reserve(raw.size());
    for (const Pt& p : raw)
      if (pts.empty() || !same(pts.back(), p)) pts.push_back(p);
    while (pts.size() > 1 && same(pts.front(), pts.back())) pts.pop_back();
    if (pts.size() < 3) continue;
    for (auto& loop : split_loops(node_ring(pts))) {
      const double area = signed_area(loop);
      if (std::fabs(area) < kMinLoopArea) continue;
      if (area < 0.0) std::reverse(loop.begin(), loop.end());
      Poly p;
      p.outer().assign(loop.begin(), loop.end());
      parts.emplace_back(std::fabs(area), MPoly{std::move(p)});
    }
  }
  // Smallest first: the many small loops combine cheaply and the big one enters once, at the end.
  std::stable_sort(parts.begin(), parts.end(),
                   [](const auto& l, const auto& r) { return l.first < r.first; });
  MPoly acc;
  for (auto& [area, part] : parts) {
    if (acc.empty()) {
      acc = std::move(part);
      continue;
    }
    MPoly next;
    bg::sym_difference(acc, part, next);
    acc = std::move(next);
  }
  return acc;
}

/// Repair one feature into a valid multipolygon (possibly empty). Sets `was_valid` to the validity
/// of the feature as read (rings closed, orientation ignored) and `why_invalid` to the reason the
/// result is still invalid ("" when it is valid).
MPoly repair_feature(const BoundaryFeature& f, bool& was_valid, std::string& why_invalid) {
  MPoly raw;
  for (const auto& part : f.polygons) {
    Poly p;
    for (std::size_t r = 0; r < part.size(); ++r) {
      Ring ring;
      for (const auto& [lon, lat] : part[r]) ring.emplace_back(lon, lat);
      if (r == 0) p.outer() = std::move(ring);
      else p.inners().push_back(std::move(ring));
    }
    raw.push_back(std::move(p));
  }
  bg::correct(raw);  // closure and orientation only: not what makes a boundary "dirty"
  was_valid = bg::is_valid(raw);

  MPoly out;
  for (const auto& part : f.polygons) {
    std::vector<std::vector<Pt>> rings;
    for (const auto& ring : part) {
      std::vector<Pt> pts;
      pts.reserve(ring.size());
      for (const auto& [lon, lat] : ring)
        if (std::isfinite(lon) && std::isfinite(lat)) pts.emplace_back(lon, lat);
      rings.push_back(std::move(pts));
    }
    MPoly area = even_odd_area(rings);
    if (area.empty()) continue;
    if (out.empty()) {
      out = std::move(area);
    } else {
      MPoly next;
      bg::union_(out, area, next);
      out = std::move(next);
    }
  }
  // Overlay in floating point can leave a hole touching its shell a hair off a vertex; the same
  // repair run again over the result's own rings settles it (twice at most on real layers).
  why_invalid.clear();
  for (int pass = 0; !out.empty(); ++pass) {
    std::string message;
    if (bg::is_valid(out, message)) break;
    if (pass == 3) {  // give up: the caller reports why
      why_invalid = message;
      break;
    }
    MPoly again;
    for (const Poly& p : out) {
      std::vector<std::vector<Pt>> rings;
      rings.emplace_back(p.outer().begin(), p.outer().end());
      for (const Ring& h : p.inners()) rings.emplace_back(h.begin(), h.end());
      MPoly area = even_odd_area(rings);
      if (again.empty()) {
        again = std::move(area);
      } else if (!area.empty()) {
        MPoly next;
        bg::union_(again, area, next);
        again = std::move(next);
      }
    }
    out = std::move(again);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------------------------

struct JurisdictionIndex::Impl {
  std::vector<Jurisdiction> areas;
  std::vector<std::array<double, 4>> bounds;
  std::size_t repaired{};
  double gap_tolerance_m{};

  std::vector<Edge> edges;
  Rtree rtree;  ///< edge envelopes (lon/lat), value = edge index

  // uniform grid over the layer
  double gx0{}, gy0{}, cell_w{}, cell_h{};
  int nx{}, ny{};
  std::vector<std::uint32_t> edge_start;  ///< CSR offsets, size nx*ny+1
  std::vector<std::uint32_t> edge_ids;
  std::vector<std::uint32_t> in_start;    ///< CSR offsets, areas containing the cell centre
  std::vector<std::uint32_t> in_ids;

  void build_grid();
  int locate_index(double lon, double lat) const;
  /// Nearest edge (of area `only`, or of any area when only < 0) within `max_m`: {area, metres};
  /// {-1, inf} when none.
  std::pair<int, double> nearest_edge(double lon, double lat, double max_m, int only) const;
  /// Distance in metres to the nearest edge (of area `only` or any), unbounded.
  double boundary_distance(double lon, double lat, int only) const;
};

void JurisdictionIndex::Impl::build_grid() {
  if (edges.empty()) return;
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min, y_min = x_min, y_max = -x_min;
  for (const Edge& e : edges) {
    x_min = std::min({x_min, e.ax, e.bx});
    x_max = std::max({x_max, e.ax, e.bx});
    y_min = std::min({y_min, e.ay, e.by});
    y_max = std::max({y_max, e.ay, e.by});
  }
  const double w = std::max(x_max - x_min, 1e-9), h = std::max(y_max - y_min, 1e-9);
  // About 2 cells per edge, at most 4M cells.
  const double target = std::clamp(2.0 * static_cast<double>(edges.size()), 16.0, 4.0e6);
  const double cs = std::sqrt(w * h / target);
  nx = std::max(1, static_cast<int>(std::ceil(w / cs)) + 1);
  ny = std::max(1, static_cast<int>(std::ceil(h / cs)) + 1);
  cell_w = w / (nx - 1 > 0 ? nx - 1 : 1);
  cell_h = h / (ny - 1 > 0 ? ny - 1 : 1);
  // An origin that is not a dyadic fraction keeps cell centres off quantised vertices and edges.
  gx0 = x_min - 0.4142135623730951 * cell_w;
  gy0 = y_min - 0.3819660112501051 * cell_h;
  const std::size_t ncell = static_cast<std::size_t>(nx) * ny;

  // Edges per cell (closed cells, conservative: the edge's bounding cells, clipped when long).
  auto cells_of = [&](const Edge& e, auto&& emit) {
    const int c0 = std::clamp(static_cast<int>(std::floor((std::min(e.ax, e.bx) - gx0) / cell_w)), 0, nx - 1);
    const int c1 = std::clamp(static_cast<int>(std::floor((std::max(e.ax, e.bx) - gx0) / cell_w)), 0, nx - 1);
    const int r0 = std::clamp(static_cast<int>(std::floor((std::min(e.ay, e.by) - gy0) / cell_h)), 0, ny - 1);
    const int r1 = std::clamp(static_cast<int>(std::floor((std::max(e.ay, e.by) - gy0) / cell_h)), 0, ny - 1);
    const bool small = (c1 - c0 + 1) * (r1 - r0 + 1) <= 4;
    for (int r = r0; r <= r1; ++r)
      for (int c = c0; c <= c1; ++c) {
        if (!small) {
          // Liang-Barsky clip of the edge against the cell, enlarged by a hair for rounding.
          const double eps_x = 1e-9 * cell_w, eps_y = 1e-9 * cell_h;
          const double bx0 = gx0 + c * cell_w - eps_x, bx1 = gx0 + (c + 1) * cell_w + eps_x;
          const double by0 = gy0 + r * cell_h - eps_y, by1 = gy0 + (r + 1) * cell_h + eps_y;
          double t0 = 0.0, t1 = 1.0;
          const double dx = e.bx - e.ax, dy = e.by - e.ay;
          const double p[4] = {-dx, dx, -dy, dy};
          const double q[4] = {e.ax - bx0, bx1 - e.ax, e.ay - by0, by1 - e.ay};
          bool hit = true;
          for (int k = 0; k < 4 && hit; ++k) {
            if (p[k] == 0.0) {
              if (q[k] < 0.0) hit = false;
            } else {
              const double t = q[k] / p[k];
              if (p[k] < 0.0) t0 = std::max(t0, t);
              else t1 = std::min(t1, t);
              if (t0 > t1) hit = false;
            }
          }
          if (!hit) continue;
        }
        emit(static_cast<std::size_t>(r) * nx + c);
      }
  };
  edge_start.assign(ncell + 1, 0);
  for (const Edge& e : edges) cells_of(e, [&](std::size_t cell) { ++edge_start[cell + 1]; });
  for (std::size_t i = 0; i < ncell; ++i) edge_start[i + 1] += edge_start[i];
  edge_ids.resize(edge_start[ncell]);
  {
    std::vector<std::uint32_t> fill(edge_start.begin(), edge_start.end() - 1);
    for (std::uint32_t k = 0; k < edges.size(); ++k)
      cells_of(edges[k], [&](std::size_t cell) { edge_ids[fill[cell]++] = k; });
  }

  // Areas containing each cell centre: a scan line through every row of centres.
  std::vector<std::vector<std::pair<std::uint32_t, double>>> crossings(static_cast<std::size_t>(ny));
  for (const Edge& e : edges) {
    const double lo = std::min(e.ay, e.by), hi = std::max(e.ay, e.by);
    // rows whose centre y satisfies lo <= y < hi (the half-open straddle rule)
    int r0 = std::max(0, static_cast<int>(std::ceil((lo - gy0) / cell_h - 0.5)) - 1);
    int r1 = std::min(ny - 1, static_cast<int>(std::floor((hi - gy0) / cell_h - 0.5)) + 1);
    for (int r = r0; r <= r1; ++r) {
      const double yc = gy0 + (r + 0.5) * cell_h;
      if (straddles_y(e, yc)) crossings[r].emplace_back(e.area, x_at(e, yc));
    }
  }
  in_start.assign(ncell + 1, 0);
  in_ids.clear();
  std::vector<std::pair<int, std::uint32_t>> row_in;  // (column, area) of one row
  for (int r = 0; r < ny; ++r) {
    auto& xs = crossings[r];
    std::sort(xs.begin(), xs.end());
    row_in.clear();
    for (std::size_t i = 0; i < xs.size();) {
      std::size_t j = i;
      while (j < xs.size() && xs[j].first == xs[i].first) ++j;
      // parity of crossings with x > cx is odd exactly for cx in [x_2k, x_2k+1)
      for (std::size_t k = i; k + 1 < j; k += 2) {
        const double xa = xs[k].second, xb = xs[k + 1].second;
        const int c0 = std::max(0, static_cast<int>(std::ceil((xa - gx0) / cell_w - 0.5)) - 1);
        const int c1 = std::min(nx - 1, static_cast<int>(std::floor((xb - gx0) / cell_w - 0.5)) + 1);
        for (int c = c0; c <= c1; ++c) {
          const double xc = gx0 + (c + 0.5) * cell_w;
          if (xc >= xa && xc < xb) row_in.emplace_back(c, xs[i].first);
        }
      }
      i = j;
    }
    std::sort(row_in.begin(), row_in.end());
    std::size_t k = 0;
    for (int c = 0; c < nx; ++c) {
      const std::size_t cell = static_cast<std::size_t>(r) * nx + c;
      while (k < row_in.size() && row_in[k].first == c) in_ids.push_back(row_in[k++].second);
      in_start[cell + 1] = static_cast<std::uint32_t>(in_ids.size());
    }
    std::vector<std::pair<std::uint32_t, double>>().swap(xs);
  }
}

std::pair<int, double> JurisdictionIndex::Impl::nearest_edge(double lon, double lat, double max_m,
                                                             int only) const {
  double kx, ky;
  metres_per_degree(lat, kx, ky);
  const double dlon = max_m / std::max(kx, 1.0), dlat = max_m / ky;
  const Box q(Pt(lon - dlon, lat - dlat), Pt(lon + dlon, lat + dlat));
  int best = -1;
  double best2 = max_m * max_m;
  for (auto it = rtree.qbegin(bgi::intersects(q)); it != rtree.qend(); ++it) {
    const Edge& e = edges[it->second];
    if (only >= 0 && static_cast<int>(e.area) != only) continue;
    const double d2 = dist2_m(e, lon, lat, kx, ky);
    if (d2 <= best2) {
      best2 = d2;
      best = static_cast<int>(e.area);
    }
  }
  return {best, best < 0 ? std::numeric_limits<double>::infinity() : std::sqrt(best2)};
}

double JurisdictionIndex::Impl::boundary_distance(double lon, double lat, int only) const {
  // The edge whose envelope is nearest in plain degrees gives an upper bound on the distance in
  // metres; every edge within that bound is then measured exactly.
  std::vector<RtreeValue> hit;
  const Pt p(lon, lat);
  if (only < 0) {
    rtree.query(bgi::nearest(p, 1), std::back_inserter(hit));
  } else {
    const auto mine = [&](const RtreeValue& v) { return static_cast<int>(edges[v.second].area) == only; };
    rtree.query(bgi::nearest(p, 1) && bgi::satisfies(mine), std::back_inserter(hit));
  }
  if (hit.empty()) return std::numeric_limits<double>::infinity();
  double kx, ky;
  metres_per_degree(lat, kx, ky);
  const double bound_m = std::sqrt(dist2_m(edges[hit.front().second], lon, lat, kx, ky));
  const auto [area, d] = nearest_edge(lon, lat, bound_m * (1.0 + 1e-12) + 1e-9, only);
  return area >= 0 ? d : bound_m;
}

int JurisdictionIndex::Impl::locate_index(double lon, double lat) const {
  if (!std::isfinite(lon) || !std::isfinite(lat) || edges.empty()) return -1;
  const double fx = (lon - gx0) / cell_w, fy = (lat - gy0) / cell_h;
  if (!(fx >= 0.0 && fx < nx && fy >= 0.0 && fy < ny))
    return nearest_edge(lon, lat, gap_tolerance_m, -1).first;
  const int c = static_cast<int>(fx), r = static_cast<int>(fy);
  const std::size_t cell = static_cast<std::size_t>(r) * nx + c;
  const std::uint32_t e0 = edge_start[cell], e1 = edge_start[cell + 1];
  const std::uint32_t i0 = in_start[cell], i1 = in_start[cell + 1];
  if (e0 == e1 && i1 - i0 == 1) return static_cast<int>(in_ids[i0]);  // the common case

  // Parity per candidate area: the centre's, toggled along centre -> (lon, yc) -> (lon, lat).
  constexpr int kMaxCand = 32;
  std::uint32_t cand[kMaxCand];
  bool parity[kMaxCand];
  int n = 0;
  for (std::uint32_t k = i0; k < i1 && n < kMaxCand; ++k) {
    cand[n] = in_ids[k];
    parity[n++] = true;
  }
  const double xc = gx0 + (c + 0.5) * cell_w, yc = gy0 + (r + 0.5) * cell_h;
  const double hx_lo = std::min(xc, lon), hx_hi = std::max(xc, lon);
  const double vy_lo = std::min(yc, lat), vy_hi = std::max(yc, lat);
  for (std::uint32_t k = e0; k < e1; ++k) {
    const Edge& e = edges[edge_ids[k]];
    bool toggle = false;
    if (straddles_y(e, yc)) {
      const double x = x_at(e, yc);
      if (x > hx_lo && x <= hx_hi) toggle = !toggle;
    }
    if (straddles_x(e, lon)) {
      const double y = y_at(e, lon);
      if (y > vy_lo && y <= vy_hi) toggle = !toggle;
    }
    if (!toggle) continue;
    int m = 0;
    while (m < n && cand[m] != e.area) ++m;
    if (m == n) {
      if (n == kMaxCand) continue;  // cannot happen on sane layers (32 areas meeting in one cell)
      cand[n] = e.area;
      parity[n++] = false;
    }
    parity[m] = !parity[m];
  }
  int found = -1, count = 0;
  for (int m = 0; m < n; ++m)
    if (parity[m]) {
      ++count;
      found = static_cast<int>(cand[m]);
    }
  if (count == 1) return found;
  if (count == 0) return nearest_edge(lon, lat, gap_tolerance_m, -1).first;
  // Overlap between neighbours: the area whose boundary is farthest (the point is deepest inside).
  double best_d = -1.0;
  for (int m = 0; m < n; ++m) {
    if (!parity[m]) continue;
    const double d = boundary_distance(lon, lat, static_cast<int>(cand[m]));
    if (d > best_d) {
      best_d = d;
      found = static_cast<int>(cand[m]);
    }
  }
  return found;
}

namespace {
/// Whether any vertex bounding box of `f` comes within `margin_deg` of `box` (lon/lat).
bool near_region(const BoundaryFeature& f, const std::array<double, 4>& box, double margin_lon,
                 double margin_lat) {
  double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
  for (const auto& poly : f.polygons)
    for (const auto& ring : poly)
      for (const auto& [x, y] : ring) {
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
      }
  return x0 <= box[2] + margin_lon && x1 >= box[0] - margin_lon && y0 <= box[3] + margin_lat &&
         y1 >= box[1] - margin_lat;
}
}  // namespace

JurisdictionIndex::JurisdictionIndex(const BoundaryLayer& layer, Diagnostics& diag, double gap_tolerance_m,
                                     const std::optional<std::array<double, 4>>& region)
    : impl_(std::make_unique<Impl>()) {
  if (!(gap_tolerance_m >= 0.0)) throw InvalidInput("gap tolerance must be >= 0 metres");
  impl_->gap_tolerance_m = gap_tolerance_m;
  double margin_lon = 0, margin_lat = 0;
  if (region) {
    const auto& b = *region;
    if (!(b[0] <= b[2] && b[1] <= b[3]) || !std::isfinite(b[0] + b[1] + b[2] + b[3]))
      throw InvalidInput("jurisdiction region must be {lon_min, lat_min, lon_max, lat_max}");
    // the gap tolerance plus 1 km, in degrees (a degree of latitude is >= 110.5 km; longitude
    // shrinks with cos(lat) at the box's pole-ward edge)
    margin_lat = (gap_tolerance_m + 1000.0) / 110500.0;
    const double lat_max = std::min(89.0, std::max(std::abs(b[1]), std::abs(b[3])) + margin_lat);
    margin_lon = margin_lat / std::cos(lat_max * M_PI / 180.0);
  }
  std::vector<RtreeValue> boxes;
  for (std::size_t fi = 0; fi < layer.features.size(); ++fi) {
    const BoundaryFeature& f = layer.features[fi];
    if (region && !near_region(f, *region, margin_lon, margin_lat)) continue;
    bool was_valid = false;
    std::string why;
    MPoly repaired;
    try {
      repaired = repair_feature(f, was_valid, why);
    } catch (const std::exception& ex) {
      diag.reject(layer.file, fi + 1, "boundary '" + f.code + "' could not be repaired: " + ex.what());
      continue;
    }
    if (repaired.empty() || bg::area(repaired) <= 0.0) {
      diag.reject(layer.file, fi + 1, "boundary '" + f.code + "' has no area after repair");
      continue;
    }
    if (!why.empty())
      diag.warn(layer.file, "boundary '" + f.code + "' (feature " + std::to_string(fi + 1) +
                                "): still invalid after repair (" + why + "); used as is (even-odd)");
    if (!was_valid) ++impl_->repaired;
    const auto id = static_cast<std::uint32_t>(impl_->areas.size());
    impl_->areas.push_back({f.code, f.name});
    Box env = bg::return_envelope<Box>(repaired);
    impl_->bounds.push_back({env.min_corner().x(), env.min_corner().y(), env.max_corner().x(),
                             env.max_corner().y()});
    auto add_ring = [&](const Ring& ring) {
      for (std::size_t k = 0; k + 1 < ring.size(); ++k) {
        const Pt &a = ring[k], &b = ring[k + 1];
        if (same(a, b)) continue;
        const auto eid = static_cast<std::uint32_t>(impl_->edges.size());
        impl_->edges.push_back({a.x(), a.y(), b.x(), b.y(), id});
        Box box(Pt(std::min(a.x(), b.x()), std::min(a.y(), b.y())),
                Pt(std::max(a.x(), b.x()), std::max(a.y(), b.y())));
        boxes.emplace_back(box, eid);
      }
    };
    for (const Poly& p : repaired) {
      add_ring(p.outer());
      for (const Ring& h : p.inners()) add_ring(h);
    }
  }
  impl_->rtree = Rtree(boxes.begin(), boxes.end());  // packing (STR-like) bulk load
  impl_->build_grid();
}

JurisdictionIndex::~JurisdictionIndex() = default;
JurisdictionIndex::JurisdictionIndex(JurisdictionIndex&&) noexcept = default;
JurisdictionIndex& JurisdictionIndex::operator=(JurisdictionIndex&&) noexcept = default;

std::optional<Jurisdiction> JurisdictionIndex::locate(double lon_deg, double lat_deg) const {
  const int i = impl_->locate_index(lon_deg, lat_deg);
  if (i < 0) return std::nullopt;
  return impl_->areas[static_cast<std::size_t>(i)];
}

int JurisdictionIndex::locate_index(double lon_deg, double lat_deg) const {
  return impl_->locate_index(lon_deg, lat_deg);
}

const std::vector<Jurisdiction>& JurisdictionIndex::areas() const noexcept { return impl_->areas; }

std::size_t JurisdictionIndex::repaired_count() const noexcept { return impl_->repaired; }

double JurisdictionIndex::distance_to_border_m(double lon_deg, double lat_deg) const {
  return impl_->boundary_distance(lon_deg, lat_deg, -1);
}

std::vector<BorderPiece> JurisdictionIndex::shared_border(int a, int b, double max_piece_m) const {
  const auto n_areas = static_cast<int>(impl_->areas.size());
  if (a < 0 || b < 0 || a >= n_areas || b >= n_areas)
    throw Internal("jurisdiction index out of range in shared_border");
  constexpr double kOppositeCos = -0.7071067811865476;  // directions within 45 deg of opposite
  const double tol_m = std::max(impl_->gap_tolerance_m, 1.0);
  std::vector<BorderPiece> out;
  for (const Edge& e : impl_->edges) {
    if (static_cast<int>(e.area) != a) continue;
    double kx, ky;
    metres_per_degree(0.5 * (e.ay + e.by), kx, ky);
    const double len_m = std::hypot((e.bx - e.ax) * kx, (e.by - e.ay) * ky);
    if (!(len_m > 0)) continue;
    const double ux = (e.bx - e.ax) * kx / len_m, uy = (e.by - e.ay) * ky / len_m;
    const int pieces = std::max(1, static_cast<int>(std::ceil(len_m / std::max(max_piece_m, 1e-3))));
    for (int k = 0; k < pieces; ++k) {
      const double f0 = static_cast<double>(k) / pieces, f1 = static_cast<double>(k + 1) / pieces;
      const double lon0 = e.ax + f0 * (e.bx - e.ax), lat0 = e.ay + f0 * (e.by - e.ay);
      const double lon1 = e.ax + f1 * (e.bx - e.ax), lat1 = e.ay + f1 * (e.by - e.ay);
      const double mlon = 0.5 * (lon0 + lon1), mlat = 0.5 * (lat0 + lat1);
      const double dlon = tol_m / std::max(kx, 1.0), dlat = tol_m / ky;
      const Box q(Pt(mlon - dlon, mlat - dlat), Pt(mlon + dlon, mlat + dlat));
      bool shared = false;
      for (auto it = impl_->rtree.qbegin(bgi::intersects(q)); it != impl_->rtree.qend() && !shared; ++it) {
        const Edge& o = impl_->edges[it->second];
        if (static_cast<int>(o.area) != b) continue;
        const double olen = std::hypot((o.bx - o.ax) * kx, (o.by - o.ay) * ky);
        if (!(olen > 0)) continue;
        const double dot = (ux * (o.bx - o.ax) * kx + uy * (o.by - o.ay) * ky) / olen;
        shared = dot <= kOppositeCos && dist2_m(o, mlon, mlat, kx, ky) <= tol_m * tol_m;
      }
      if (shared) out.push_back({lon0, lat0, lon1, lat1});
    }
  }
  return out;
}

std::array<double, 4> JurisdictionIndex::bounds(int i) const {
  if (i < 0 || static_cast<std::size_t>(i) >= impl_->bounds.size())
    throw Internal("jurisdiction index " + std::to_string(i) + " out of range");
  return impl_->bounds[static_cast<std::size_t>(i)];
}

}  // namespace plumetrace
