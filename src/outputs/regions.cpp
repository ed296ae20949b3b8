/// `plumetrace regions` (outputs/regions.hpp).

#include "plumetrace/outputs/regions.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/fusion/observations.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/jurisdictions.hpp"
#include "plumetrace/met/wind_field.hpp"
#include "plumetrace/outputs/raster.hpp"

namespace plumetrace {
namespace {

constexpr double kHourS = 3600.0;

/// One station's hourly means: hour index (floor(t / 3600)) -> (sum, count).
using HourlySums = std::map<long long, std::pair<double, int>>;

/// Add an observation to its station's hours: a period shorter than an hour goes to the hour of its
/// middle; a longer one (a daily filter sample) to every hour whose middle it covers.
void add_to_hours(const Observation& o, HourlySums& hours) {
  if (o.averaging_s < kHourS) {
    const auto h = static_cast<long long>(std::floor((o.t_start + 0.5 * o.averaging_s) / kHourS));
    auto& [sum, n] = hours[h];
    sum += o.value;
    ++n;
    return;
  }
  const auto first = static_cast<long long>(std::ceil((o.t_start - 0.5 * kHourS) / kHourS));
  for (long long h = first; (static_cast<double>(h) + 0.5) * kHourS < o.t_start + o.averaging_s; ++h) {
    auto& [sum, n] = hours[h];
    sum += o.value;
    ++n;
  }
}

/// The WGS 84 box of the grid (corners and edge midpoints), for indexing only the areas near it.
std::array<double, 4> grid_lonlat_box(const Grid& grid, const Transformer& tr) {
  std::array<double, 4> box{1e9, 1e9, -1e9, -1e9};
  const double xs[] = {grid.x0_m, 0.5 * (grid.x0_m + grid.x1_m()), grid.x1_m()};
  const double ys[] = {grid.y0_m(), 0.5 * (grid.y0_m() + grid.y1_m), grid.y1_m};
  for (double x : xs)
    for (double y : ys) {
      double lon = 0, lat = 0;
      if (!tr.inverse(x, y, lon, lat)) continue;
      box = {std::min(box[0], lon), std::min(box[1], lat), std::max(box[2], lon), std::max(box[3], lat)};
    }
  return box;
}

/// The cell of the largest value (NaN skipped) as {lon, lat, value}; null when every cell is NaN.
nlohmann::json peak_of(const std::vector<float>& field, const Grid& grid, const Transformer& tr) {
  std::size_t best = field.size();
  for (std::size_t i = 0; i < field.size(); ++i)
    if (!std::isnan(field[i]) && (best == field.size() || field[i] > field[best])) best = i;
  if (best == field.size()) return nullptr;
  const int r = static_cast<int>(best / static_cast<std::size_t>(grid.cols));
  const int c = static_cast<int>(best % static_cast<std::size_t>(grid.cols));
  double lon = 0, lat = 0;
  tr.inverse(grid.x_center(c), grid.y_center(r), lon, lat);
  return {{"lon", std::round(lon * 1e6) / 1e6}, {"lat", std::round(lat * 1e6) / 1e6}, {"value", round_to(field[best], 4)}};
}

}  // namespace

const char* regions_method() noexcept {
  return "back-trajectories (Heun, 24 h or until they leave the grid) from every station for every hourly mean; "
         "PSCF = residence time of trajectories above the station's 90th percentile / all residence time, "
         "CWT = residence-time-weighted mean concentration, both with openair's count weights; shares = the "
         "residence-time-weighted anomaly over each station's mean, kept where positive, summed per jurisdiction";
}

RegionsResult run_regions(const Case& c, const RegionsRequest& request) {
  const std::string pollutant = ascii_lower(request.pollutant.empty() ? c.settings.pollutant : request.pollutant);
  if (pollutant.empty()) throw InvalidInput("no pollutant: give --pollutant or set \"pollutant\" in case.json");
  if (c.stations.empty()) throw InvalidInput("regions needs fixed stations (stations.csv) in " + c.dir.string());
  const TimeZone tz = TimeZone::parse(c.settings.timezone);
  const DataSpan span = pollutant_data_span(c, pollutant);
  if (span.t0 > span.t1) throw InvalidInput("no observations of '" + pollutant + "' in " + c.dir.string());
  const EpochSeconds t0 = request.start.empty() ? span.t0 : parse_iso8601(request.start, tz);
  const EpochSeconds t1 = request.end.empty() ? span.t1 : parse_iso8601(request.end, tz);
  if (!(t1 > t0)) throw InvalidInput("--end must be later than --start");

  RegionsResult res;
  const std::string crs = analysis_crs_for(c);
  const Transformer tr(crs);
  GridOptions grid_options;
  grid_options.min_margin_m = kRegionsMarginM;
  grid_options.cells_across_margin = true;
  grid_options.target_cells_long_side = kRegionsCellsLongSide;
  res.grid = make_grid(c, crs, grid_options);
  res.crs_wkt = tr.wkt();
  const WindField wind = WindField::from_case(c, tr);
  if (wind.source() == "default")
    throw InvalidInput("regions needs wind: wind_speed and wind_dir readings in readings.csv, or met/ grids (" +
                       c.dir.string() + " has neither)");

  // station readings whose period overlaps the window (a day either side: daily samples)
  const ObservationSet obs = gather_observations(c, tr, res.grid, pollutant, t0 - 24 * kHourS, t1 + 24 * kHourS);
  std::map<int, HourlySums> by_platform;
  for (const Observation& o : obs.obs)
    if (o.kind == ObservationKind::Station || o.kind == ObservationKind::Path) add_to_hours(o, by_platform[o.platform]);

  std::vector<RegionsSample> samples;
  std::vector<RegionsStation> stations;
  nlohmann::json summary = nlohmann::json::array();
  std::map<long long, int> distinct_hours;
  for (const auto& [platform, hours] : by_platform) {
    const Platform& p = obs.platforms[static_cast<std::size_t>(platform)];
    const auto st = std::find_if(c.stations.begin(), c.stations.end(), [&](const Station& s) { return s.id == p.id; });
    if (st == c.stations.end()) continue;
    // the receptor: the station, or an open path's middle
    const double lon = st->path_end ? 0.5 * (st->lon + st->path_end->first) : st->lon;
    const double lat = st->path_end ? 0.5 * (st->lat + st->path_end->second) : st->lat;
    double x = 0, y = 0;
    if (!tr.forward(lon, lat, x, y)) continue;
    std::vector<double> values;
    const auto index = static_cast<std::uint32_t>(stations.size());
    for (const auto& [h, sum_n] : hours) {
      const double arrival = (static_cast<double>(h) + 0.5) * kHourS;
      if (arrival < t0 || arrival > t1) continue;
      const double mean = sum_n.first / sum_n.second;
      samples.push_back({index, x, y, arrival, mean});
      values.push_back(mean);
      ++distinct_hours[h];
    }
    if (values.empty()) continue;
    const std::size_t n_hours = values.size();
    double sum = 0;
    for (double v : values) sum += v;
    const double mean = sum / static_cast<double>(n_hours);
    const double threshold = quantile_type7(values, kPscfPercentile);
    stations.push_back({threshold, mean});
    summary.push_back({{"id", p.id}, {"hours", n_hours}, {"mean", round_to(mean, 4)}, {"threshold", round_to(threshold, 4)}});
  }
  if (samples.empty())
    throw InvalidInput("no station readings of '" + pollutant + "' in the window (regions uses fixed stations and open paths only)");

  RegionsOptions options;
  options.threads = request.threads;
  res.fields = source_regions(wind, res.grid, samples, stations, options);

  nlohmann::json areas = nlohmann::json::array();
  double outside_share = 0;
  if (c.boundaries) {
    Diagnostics diag;
    const JurisdictionIndex index(*c.boundaries, diag, 200.0, grid_lonlat_box(res.grid, tr));
    const RegionsByArea by_area = regions_by_area(index, res.grid, tr, res.fields.contribution);
    for (const RegionShare& s : by_area.areas)
      areas.push_back({{"code", s.area.code}, {"name", s.area.name}, {"share", round_to(s.share, 6)}, {"cells", s.cells}});
    const double total = by_area.inside + by_area.outside;
    outside_share = total > 0 ? by_area.outside / total : 0.0;
  }

  nlohmann::json& d = res.document;
  d["pollutant"] = pollutant;
  d["units"] = span.units;
  d["window"] = {{"start", format_iso8601(t0, tz)},
                 {"end", format_iso8601(t1, tz)},
                 {"given", !request.start.empty() || !request.end.empty()}};
  d["stations"] = stations.size();
  d["hours"] = distinct_hours.size();
  d["trajectories"] = samples.size();
  d["method"] = regions_method();
  d["percentile"] = std::lround(kPscfPercentile * 100);
  d["jurisdictions"] = areas;
  d["boundaries"] = c.boundaries.has_value();
  d["outside_share"] = round_to(outside_share, 6);
  d["station_summary"] = summary;
  d["pscf_peak"] = peak_of(res.fields.pscf, res.grid, tr);
  d["cwt_peak"] = peak_of(res.fields.cwt, res.grid, tr);
  d["grid"] = {{"crs", crs}, {"cell_m", res.grid.cell_m}, {"cols", res.grid.cols}, {"rows", res.grid.rows}};
  d["wind_source"] = wind.source();
  d["max_back_hours"] = kRegionsMaxBackS / kHourS;
  d["mean_time_on_grid_h"] = round_to(res.fields.mean_time_on_grid_s / kHourS, 3);
  return res;
}

void write_regions_outputs(const RegionsResult& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InvalidInput("cannot create output folder " + dir.string() + ": " + ec.message());
  {
    std::ofstream f(dir / "regions.json", std::ios::binary);
    f << r.document.dump(2) << '\n';
    if (!f) throw InvalidInput("cannot write " + (dir / "regions.json").string());
  }
  write_cog(dir / "pscf.tif", r.grid, r.crs_wkt, r.fields.pscf, "PSCF (openair weights)", "1");
  write_cog(dir / "cwt.tif", r.grid, r.crs_wkt, r.fields.cwt, "CWT (openair weights)",
            r.document.value("units", ""));
}

std::string format_regions_table(const nlohmann::json& d) {
  std::ostringstream out;
  out << d.at("pollutant").get<std::string>() << " source regions, " << d["window"]["start"].get<std::string>()
      << " .. " << d["window"]["end"].get<std::string>() << ": " << d["stations"].get<std::size_t>() << " stations, "
      << d["hours"].get<std::size_t>() << " hours, " << d["trajectories"].get<std::size_t>() << " back-trajectories ("
      << d["wind_source"].get<std::string>() << " wind)\n";
  const auto& areas = d.at("jurisdictions");
  if (areas.empty()) {
    out << "  no jurisdictions (no boundary layer, or no excess over background)\n";
  } else {
    out << "  share  jurisdiction\n";
    for (const auto& a : areas) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%6.1f%%", 100.0 * a.at("share").get<double>());
      out << buf << "  " << a.at("code").get<std::string>() << " " << a.at("name").get<std::string>() << "\n";
    }
  }
  auto peak = [&](const char* key, const char* label) {
    const auto& p = d.at(key);
    if (p.is_null()) return;
    out << "  " << label << " peak " << p.at("value").get<double>() << " at " << p.at("lon").get<double>() << ", "
        << p.at("lat").get<double>() << "\n";
  };
  peak("pscf_peak", "PSCF");
  peak("cwt_peak", "CWT");
  return out.str();
}

}  // namespace plumetrace
