/// @file crs.cpp
/// PROJ-backed transforms between WGS 84 lon/lat and a projected analysis CRS.

#include "plumetrace/geo/crs.hpp"

#include <proj.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "plumetrace/core/error.hpp"

namespace plumetrace {

std::string utm_crs_for(double lon_deg, double lat_deg) {
  int zone = static_cast<int>(std::floor((lon_deg + 180.0) / 6.0)) + 1;
  if (zone > 60) zone = 60;  // lon == 180
  if (zone < 1) zone = 1;
  // Norway (south-west coast): zone 32 widened to 3E..12E between 56N and 64N.
  if (lat_deg >= 56.0 && lat_deg < 64.0 && lon_deg >= 3.0 && lon_deg < 12.0) zone = 32;
  // Svalbard: zones 32, 34 and 36 are not used between 72N and 84N.
  if (lat_deg >= 72.0 && lat_deg <= 84.0) {
    if (lon_deg >= 0.0 && lon_deg < 9.0) zone = 31;
    else if (lon_deg >= 9.0 && lon_deg < 21.0) zone = 33;
    else if (lon_deg >= 21.0 && lon_deg < 33.0) zone = 35;
    else if (lon_deg >= 33.0 && lon_deg < 42.0) zone = 37;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "EPSG:%d", (lat_deg < 0.0 ? 32700 : 32600) + zone);
  return buf;
}

struct Transformer::Impl {
  std::string crs;
  PJ_CONTEXT* ctx{nullptr};
  PJ* target{nullptr};  ///< the projected CRS object (for WKT)
  PJ* op{nullptr};      ///< WGS 84 (lon, lat) -> target (easting, northing)

  ~Impl() {
    if (op) proj_destroy(op);
    if (target) proj_destroy(target);
    if (ctx) proj_context_destroy(ctx);
  }
};

namespace {

/// A swallow-all PROJ log function: errors are reported through our exceptions instead of stderr.
void quiet_log(void*, int, const char*) {}

/// True when every axis of the CRS's coordinate system is in metres.
bool axes_in_metres(PJ_CONTEXT* ctx, PJ* crs) {
  PJ* cs = proj_crs_get_coordinate_system(ctx, crs);
  if (!cs) return false;
  const int n = proj_cs_get_axis_count(ctx, cs);
  bool ok = n >= 2;
  for (int i = 0; ok && i < n; ++i) {
    double factor = 0.0;
    if (!proj_cs_get_axis_info(ctx, cs, i, nullptr, nullptr, nullptr, &factor, nullptr, nullptr,
                               nullptr) ||
        std::fabs(factor - 1.0) > 1e-12)
      ok = false;
  }
  proj_destroy(cs);
  return ok;
}

}  // namespace

Transformer::Transformer(const std::string& crs) : impl_(std::make_unique<Impl>()) {
  impl_->crs = crs;
  impl_->ctx = proj_context_create();
  if (!impl_->ctx) throw Internal("PROJ: cannot create a context");
  proj_log_func(impl_->ctx, nullptr, quiet_log);
  if (crs.empty()) throw InvalidInput("CRS is empty");
  impl_->target = proj_create(impl_->ctx, crs.c_str());
  if (!impl_->target) throw InvalidInput("CRS '" + crs + "' is not understood by PROJ");
  PJ_TYPE type = proj_get_type(impl_->target);
  if (type == PJ_TYPE_BOUND_CRS) {
    PJ* base = proj_get_source_crs(impl_->ctx, impl_->target);
    type = base ? proj_get_type(base) : PJ_TYPE_UNKNOWN;
    if (base) proj_destroy(base);
  }
  if (type != PJ_TYPE_PROJECTED_CRS)
    throw InvalidInput("CRS '" + crs + "' is not a projected CRS (the analysis CRS must be in metres)");
  {
    PJ* horiz = impl_->target;
    PJ* base = nullptr;
    if (proj_get_type(horiz) == PJ_TYPE_BOUND_CRS) horiz = base = proj_get_source_crs(impl_->ctx, horiz);
    const bool metres = axes_in_metres(impl_->ctx, horiz);
    if (base) proj_destroy(base);
    if (!metres) throw InvalidInput("CRS '" + crs + "' has axes not in metres");
  }
  PJ* raw = proj_create_crs_to_crs(impl_->ctx, "EPSG:4326", crs.c_str(), nullptr);
  if (!raw) throw InvalidInput("PROJ found no transformation from EPSG:4326 to '" + crs + "'");
  impl_->op = proj_normalize_for_visualization(impl_->ctx, raw);
  proj_destroy(raw);
  if (!impl_->op) throw Internal("PROJ: cannot normalise the axis order for '" + crs + "'");
}

Transformer::~Transformer() = default;
Transformer::Transformer(Transformer&&) noexcept = default;
Transformer& Transformer::operator=(Transformer&&) noexcept = default;

bool Transformer::forward(double lon_deg, double lat_deg, double& x_m, double& y_m) const noexcept {
  PJ_COORD in = proj_coord(lon_deg, lat_deg, 0.0, 0.0);
  PJ_COORD out = proj_trans(impl_->op, PJ_FWD, in);
  if (!std::isfinite(out.xy.x) || !std::isfinite(out.xy.y) || out.xy.x == HUGE_VAL) {
    proj_errno_reset(impl_->op);
    x_m = y_m = std::numeric_limits<double>::quiet_NaN();
    return false;
  }
  x_m = out.xy.x;
  y_m = out.xy.y;
  return true;
}

bool Transformer::inverse(double x_m, double y_m, double& lon_deg, double& lat_deg) const noexcept {
  PJ_COORD in = proj_coord(x_m, y_m, 0.0, 0.0);
  PJ_COORD out = proj_trans(impl_->op, PJ_INV, in);
  if (!std::isfinite(out.lp.lam) || !std::isfinite(out.lp.phi) || out.lp.lam == HUGE_VAL) {
    proj_errno_reset(impl_->op);
    lon_deg = lat_deg = std::numeric_limits<double>::quiet_NaN();
    return false;
  }
  lon_deg = out.lp.lam;
  lat_deg = out.lp.phi;
  return true;
}

const std::string& Transformer::crs() const noexcept { return impl_->crs; }

std::string Transformer::wkt() const {
  const char* w = proj_as_wkt(impl_->ctx, impl_->target, PJ_WKT2_2019, nullptr);
  if (!w) throw Internal("PROJ cannot write WKT for '" + impl_->crs + "'");
  return w;
}

}  // namespace plumetrace
