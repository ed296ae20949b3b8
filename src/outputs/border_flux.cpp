/// `plumetrace border-flux` (outputs/border_flux.hpp).

#include "plumetrace/outputs/border_flux.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string_view>

#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/fusion/observations.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/geo/jurisdictions.hpp"
#include "plumetrace/inversion/inversion.hpp"
#include "plumetrace/met/wind_field.hpp"

namespace plumetrace {
namespace {

/// Metres to 0.1 m (the pieces' sum carries rounding noise below that).
double decimetres(double m) { return std::round(m * 10.0) / 10.0; }

/// The UTC offset (minutes) a date-time text states, from its wall clock against its instant;
/// nullopt for a naive or unparsable text.
std::optional<int> stated_offset_min(const std::string& text) {
  EpochSeconds t = 0, wall = 0;
  bool naive = true;
  if (text.size() < 19 || !parse_iso8601(text, TimeZone::utc(), t, &naive) || naive ||
      !parse_iso8601(std::string_view(text).substr(0, 19), TimeZone::utc(), wall))
    return std::nullopt;
  return static_cast<int>(std::lround((wall - t) / 60.0));
}

}  // namespace

const char* border_flux_method() noexcept {
  return "fused concentration (hourly inverse-distance-weighted observations, excess fading to background "
         "beyond 3 km) x wind component normal to the shared border x mixing height, integrated along the "
         "shared edge of the repaired jurisdiction polygons (50 m pieces) and over the window (5 min steps)";
}

nlohmann::json border_flux_fields(const std::string& code_a, const std::string& code_b, const BorderFluxResult& r) {
  return {{"between", {code_a, code_b}},
          {"a_to_b_kg", r.a_to_b_kg},
          {"b_to_a_kg", r.b_to_a_kg},
          {"net_a_to_b_kg", r.a_to_b_kg - r.b_to_a_kg},
          {"above_background", {{"a_to_b_kg", r.a_to_b_excess_kg}, {"b_to_a_kg", r.b_to_a_excess_kg}}},
          {"border_length_m", decimetres(r.border_length_m)},
          {"mean_mixing_height_m", decimetres(r.mean_mixing_height_m)},
          {"time_steps", r.steps},
          {"time_steps_with_data", r.steps_with_data}};
}

nlohmann::json run_border_flux(const Case& c, const BorderFluxRequest& request) {
  std::string pollutant = ascii_lower(request.pollutant.empty() ? c.settings.pollutant : request.pollutant);
  if (pollutant.empty()) throw InvalidInput("no pollutant: give --pollutant or set \"pollutant\" in case.json");
  if (!c.boundaries) throw InvalidInput("border-flux needs a boundary layer (boundaries.geojson or case.json boundaries)");
  if (request.code_a.empty() || request.code_b.empty() || request.code_a == request.code_b)
    throw InvalidInput("--between needs two different jurisdiction codes A,B");
  // only the two areas are repaired and indexed
  BoundaryLayer two;
  two.file = c.boundaries->file;
  for (const std::string* code : {&request.code_a, &request.code_b}) {
    const auto it = std::find_if(c.boundaries->features.begin(), c.boundaries->features.end(),
                                 [&](const BoundaryFeature& f) { return f.code == *code; });
    if (it == c.boundaries->features.end())
      throw InvalidInput("no jurisdiction with code '" + *code + "' in " + c.boundaries->file);
    two.features.push_back(*it);
  }
  Diagnostics diag;
  const JurisdictionIndex index(two, diag);
  int ia = -1, ib = -1;
  for (std::size_t i = 0; i < index.areas().size(); ++i) {
    if (index.areas()[i].code == request.code_a && ia < 0) ia = static_cast<int>(i);
    else if (index.areas()[i].code == request.code_b && ib < 0) ib = static_cast<int>(i);
  }
  if (ia < 0 || ib < 0) throw InvalidInput("a jurisdiction has no area after repair: " + (diag.rejected().empty() ? std::string("?") : diag.rejected().front().reason));

  // the window: given, else the pollutant's data span
  const TimeZone tz = TimeZone::parse(c.settings.timezone);
  const DataSpan span = pollutant_data_span(c, pollutant);
  const double data_t0 = span.t0, data_t1 = span.t1;
  const std::string& units = span.units;
  if (data_t0 > data_t1) throw InvalidInput("no observations of '" + pollutant + "' in " + c.dir.string());
  const EpochSeconds t0 = request.start.empty() ? data_t0 : parse_iso8601(request.start, tz);
  const EpochSeconds t1 = request.end.empty() ? data_t1 : parse_iso8601(request.end, tz);
  if (!(t1 > t0)) throw InvalidInput("--to must be later than --from");

  const std::string crs = analysis_crs_for(c);
  const Transformer tr(crs);
  const Grid grid = make_grid(c, crs);
  const WindField wind = WindField::from_case(c, tr);
  // observations over the window and an hour either side (an hourly mean that straddles an edge)
  const ObservationSet obs = gather_observations(c, tr, grid, pollutant, t0 - 3600.0, t1 + 3600.0);
  if (obs.obs.empty()) throw InvalidInput("no observations of '" + pollutant + "' in the window");
  const double to_case_units = units_per_g_m3(units, pollutant);
  const BorderFluxResult r = border_flux_between(index, ia, ib, tr, wind, obs, t0, t1, to_case_units);
  if (r.border_length_m <= 0)
    throw InvalidInput("jurisdictions '" + request.code_a + "' and '" + request.code_b + "' share no border");

  nlohmann::json doc = border_flux_fields(request.code_a, request.code_b, r);
  doc["names"] = {index.areas()[static_cast<std::size_t>(ia)].name, index.areas()[static_cast<std::size_t>(ib)].name};
  doc["pollutant"] = pollutant;
  doc["units"] = units;
  // times in the offset the request stated, else the case's time zone
  std::optional<int> offset = stated_offset_min(request.start);
  if (!offset) offset = stated_offset_min(request.end);
  auto fmt = [&](EpochSeconds t) { return offset ? format_iso8601(t, *offset) : format_iso8601(t, tz); };
  doc["window"] = {{"start", fmt(t0)}, {"end", fmt(t1)}, {"given", !request.start.empty() || !request.end.empty()}};
  doc["crs"] = crs;
  doc["wind_source"] = wind.source();
  doc["observations_used"] = obs.obs.size();
  doc["method"] = border_flux_method();
  return doc;
}

}  // namespace plumetrace
