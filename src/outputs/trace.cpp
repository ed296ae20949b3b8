#include "plumetrace/outputs/trace.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

#include "plumetrace/border/attribution.hpp"
#include "plumetrace/core/csv.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/parallel.hpp"
#include "plumetrace/core/time.hpp"
#include "plumetrace/core/tuning.hpp"
#include "plumetrace/core/version.hpp"
#include "plumetrace/fusion/hotspots.hpp"
#include "plumetrace/fusion/observations.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/jurisdictions.hpp"
#include "plumetrace/inversion/operator.hpp"
#include "plumetrace/kernels/trajectory.hpp"
#include "plumetrace/met/wind_field.hpp"
#include "plumetrace/outputs/border_flux.hpp"
#include "plumetrace/outputs/raster.hpp"
#include "plumetrace/signals/flags.hpp"

namespace plumetrace {
namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

/// Offset (minutes east) written at the end of an ISO 8601 text, or nullopt when it has none.
std::optional<int> explicit_offset_minutes(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.back() == 'Z' || text.back() == 'z') return 0;
  // ±hh:mm, ±hhmm or ±hh after the time part
  const auto tpos = text.find_first_of("Tt ");
  if (tpos == std::string::npos) return std::nullopt;
  const auto sign = text.find_last_of("+-");
  if (sign == std::string::npos || sign < tpos) return std::nullopt;
  std::string digits;
  for (std::size_t i = sign + 1; i < text.size(); ++i)
    if (std::isdigit(static_cast<unsigned char>(text[i]))) digits.push_back(text[i]);
  if (digits.size() != 2 && digits.size() != 4) return std::nullopt;
  const int h = std::stoi(digits.substr(0, 2));
  const int m = digits.size() == 4 ? std::stoi(digits.substr(2, 2)) : 0;
  return (text[sign] == '-' ? -1 : 1) * (h * 60 + m);
}

}  // namespace

TraceResult run_trace(const Case& c, const TraceRequest& request) {
  const auto t_begin = std::chrono::steady_clock::now();
  // wall seconds per phase, reported in diagnostics.timings_s
  json timings = json::object();
  auto t_phase = t_begin;
  auto lap = [&](const char* phase) {
    const auto now = std::chrono::steady_clock::now();
    timings[phase] = round_to(std::chrono::duration<double>(now - t_phase).count(), 3);
    t_phase = now;
    if (request.on_phase) request.on_phase(phase);
  };
  const std::string pollutant = lower(request.pollutant.empty() ? c.settings.pollutant : request.pollutant);
  if (pollutant.empty())
    throw InvalidInput("no pollutant: give --pollutant or set \"pollutant\" in case.json");
  const TimeZone tz = TimeZone::parse(c.settings.timezone);

  // data span of the pollutant
  const DataSpan data_span = pollutant_data_span(c, pollutant);
  const double data_t0 = data_span.t0, data_t1 = data_span.t1;
  const std::string& units = data_span.units;
  if (data_t0 > data_t1)
    throw InvalidInput("no observations of '" + pollutant + "' in " + c.dir.string());

  const EpochSeconds start = request.start.empty() ? data_t0 : parse_iso8601(request.start, tz);
  const EpochSeconds end = request.end.empty() ? data_t1 : parse_iso8601(request.end, tz);
  if (!(end > start)) throw InvalidInput("--end must be later than --start");
  auto fmt = [&](EpochSeconds t, const std::string& given) {
    if (const auto off = explicit_offset_minutes(given)) return format_iso8601(t, *off);
    if (const auto off = explicit_offset_minutes(request.start)) return format_iso8601(t, *off);
    return format_iso8601(t, tz);
  };

  const std::string crs = analysis_crs_for(c);
  const Transformer tr(crs);
  const Grid grid = make_grid(c, crs);
  const WindField wind = WindField::from_case(c, tr);

  // ambient temperature for plume rise: the mean `temperature` reading (degC), else 20 degC
  double ambient_k = 293.15;
  if (const int tv = c.readings.variable_index("temperature"); tv >= 0) {
    double sum = 0;
    int n = 0;
    for (const Reading& r : c.readings.rows)
      if (r.variable == tv && std::isfinite(r.value) && r.value > -60 && r.value < 60) {
        sum += r.value;
        ++n;
      }
    if (n > 0) ambient_k = 273.15 + sum / n;
  }
  // candidates in the analysis CRS
  std::vector<CandidateSite> sites;
  for (const Source& s : c.sources) {
    CandidateSite site;
    tr.forward(s.lon, s.lat, site.x_m, site.y_m);
    site.h_m = std::max(s.height_m, 0.0);
    site.prior = s.prior;
    site.usual_g_s = s.permitted_g_s;
    // a facility registered for other pollutants only is less likely, not impossible
    if (!s.pollutants.empty() &&
        std::find(s.pollutants.begin(), s.pollutants.end(), pollutant) == s.pollutants.end())
      site.prior *= tuning::kOtherPollutantPriorFactor;
    // hot stacks: the operator adds Briggs plume rise to the stack height
    if (s.exit_velocity_m_s && s.exit_temp_k && s.stack_diameter_m && *s.exit_velocity_m_s > 0 &&
        *s.exit_temp_k > 0 && *s.stack_diameter_m > 0) {
      StackParams st;
      st.height_m = site.h_m;
      st.diameter_m = *s.stack_diameter_m;
      st.exit_velocity_m_s = *s.exit_velocity_m_s;
      st.exit_temp_k = *s.exit_temp_k;
      st.ambient_temp_k = ambient_k;
      site.stack = st;
    }
    sites.push_back(site);
  }

  // transit: how long air from the farthest candidate takes to the farthest receptor (at the
  // mean wind speed, with 50 % margin)
  const double mean_speed = std::max(wind.mean_speed_m_s(), 1.0);
  const double diag = std::hypot(grid.cols * grid.cell_m, grid.rows * grid.cell_m);
  double reach_m = 0;
  for (const auto& s : sites) reach_m = std::max(reach_m, std::hypot(s.x_m - grid.x_center(grid.cols / 2), s.y_m - grid.y_center(grid.rows / 2)));
  reach_m = std::min(2 * reach_m + 0.25 * diag, diag);
  const double transit_s = std::min(1.5 * reach_m / mean_speed, 12 * 3600.0);
  // The emission span: every release time the tracer considers. The analyst's window is a prior
  // on the timing (InversionOptions::given_start/end), not a cut: the span reaches
  // kWindowPriorMarginS beyond it on both sides, within the data (and kReleaseLeadBeforeDataS
  // before the first observation, whose air left its source earlier).
  const bool window_given = !request.start.empty() || !request.end.empty();
  const double lead_s = std::min(transit_s, tuning::kReleaseLeadBeforeDataS);
  EpochSeconds span_start = data_t0 - lead_s, span_end = data_t1;
  if (window_given) {
    span_start = std::max(span_start, start - tuning::kWindowPriorMarginS);
    span_end = std::min(span_end, end + tuning::kWindowPriorMarginS);
    if (!(span_end > span_start)) {  // a window wholly outside the data: the data decide
      span_start = data_t0 - lead_s;
      span_end = data_t1;
    }
  }
  if (!(span_end > span_start)) span_end = span_start + tuning::kMinProfileBlockS;  // one instant of data
  const EpochSeconds use_end = span_end + transit_s;

  // monitoring signals (cems.csv, power.csv, mandates.csv): evidence.flags, and a bounded prior factor
  std::vector<FacilitySignals> signals(c.sources.size());
  for (std::size_t j = 0; j < c.sources.size() && !c.monitoring.empty(); ++j) {
    signals[j] = facility_signals(c.monitoring, c.sources[j].id, span_start, span_end);
    sites[j].prior *= signals[j].prior_factor;
  }

  lap("met_and_grid");
  ObservationSet obs = gather_observations(c, tr, grid, pollutant, span_start, use_end);
  if (obs.obs.empty())
    throw InvalidInput("no observations of '" + pollutant + "' between " + fmt(span_start, request.start) +
                       " and " + fmt(use_end, request.end));

  Diagnostics hotspot_diag;
  const std::vector<Hotspot> hotspots =
      c.imagery.empty() ? std::vector<Hotspot>{} : detect_hotspots(c, tr, pollutant, span_start, use_end, hotspot_diag);
  lap("observations");
  OperatorOptions oo = request.op;
  oo.emit_start = span_start;
  oo.emit_end = span_end;
  const SourceReceptorOperator op(wind, obs, grid, oo);
  lap("operator");
  InversionOptions io = request.inv;
  io.to_case_units = units_per_g_m3(units, pollutant);
  if (window_given) {
    io.given_start = start;
    io.given_end = end;
  }
  if (request.threads > 0) io.threads = request.threads;
  // an imagery hotspot that no registered facility explains is where an unregistered source would be
  // (weighted by how far its peak stands above its background: a faint hotspot may be noise)
  for (const Hotspot& h : hotspots)
    if (!h.matched && h.peak > h.background) io.unlisted_hotspots.push_back({h.x_m, h.y_m, h.peak - h.background});
  // the registry's usual emissions join the background: a release is what stands above both
  // (with UsualEmissionsMode::choose the usual emissions are fitted to a copy of the observations
  // and the trace run both ways; the model whose posterior predicts held-out blocks better wins)
  io.usual_emissions = request.usual_emissions == UsualEmissionsMode::fit;
  UsualEmissions usual = io.usual_emissions ? fit_usual_emissions(op, obs, sites, io) : UsualEmissions{};
  lap("usual_emissions");
  InversionResult inv = invert(op, obs, grid, sites, io);
  double held_out_off = std::numeric_limits<double>::quiet_NaN(), held_out_fit = held_out_off;
  if (request.usual_emissions == UsualEmissionsMode::choose && !io.temper_grid.empty()) {
    held_out_off = inv.held_out_log_density;
    ObservationSet obs_fit = obs;
    const UsualEmissions fitted = fit_usual_emissions(op, obs_fit, sites, io);
    if (fitted.scale > 0) {  // a = 0 is the trace just run
      InversionResult inv_fit = invert(op, obs_fit, grid, sites, io);
      held_out_fit = inv_fit.held_out_log_density;
      if (held_out_fit > held_out_off) {
        inv = std::move(inv_fit);
        for (std::size_t i = 0; i < obs.obs.size(); ++i) obs.obs[i].usual = obs_fit.obs[i].usual;
        usual = fitted;
        io.usual_emissions = true;
      }
    }
  }

  lap("inversion");
  TraceResult out;
  out.observations.reserve(obs.obs.size());
  for (std::size_t i = 0; i < obs.obs.size(); ++i) {
    const Observation& ob = obs.obs[i];
    const Platform& pl = obs.platforms[static_cast<std::size_t>(ob.platform)];
    ObservationRecord r;
    r.platform = pl.id;
    r.kind = ob.kind == ObservationKind::Station ? "station"
             : ob.kind == ObservationKind::Mobile ? "mobile"
             : ob.kind == ObservationKind::Imagery ? "imagery"
                                                   : "path";
    r.time = format_iso8601(ob.t_start, tz);
    r.averaging_s = ob.averaging_s;
    r.lon = ob.lon;
    r.lat = ob.lat;
    r.height_m = ob.z_m;
    r.value = ob.value;
    r.background = pl.background;
    r.usual = ob.usual;
    r.noise = pl.noise;
    r.samples = ob.samples;
    r.passes = ob.passes;
    r.top_modelled = i < inv.top_modelled.size() ? inv.top_modelled[i] : 0.0;
    out.observations.push_back(std::move(r));
  }
  if (inv.top_candidate >= 0) out.top_candidate = c.sources[static_cast<std::size_t>(inv.top_candidate)].id;
  out.grid = grid;
  out.crs_wkt = tr.wkt();
  out.fused = fuse_on_grid(obs, grid, span_start, use_end, request.threads);

  // footprints: per platform, from up to 6 of its observations inside [span_start, use_end]
  const int threads = worker_threads(request.threads);
  std::vector<std::vector<std::size_t>> per_platform(obs.platforms.size());
  for (std::size_t i = 0; i < obs.obs.size(); ++i)
    if (obs.obs[i].t_start + obs.obs[i].averaging_s > span_start)
      per_platform[static_cast<std::size_t>(obs.obs[i].platform)].push_back(i);
  std::vector<std::size_t> fp_obs;
  std::vector<int> fp_platform;
  for (std::size_t p = 0; p < per_platform.size(); ++p) {
    const auto& v = per_platform[p];
    const std::size_t take = std::min<std::size_t>(6, v.size());
    for (std::size_t k = 0; k < take; ++k) {
      fp_obs.push_back(v[(k * v.size()) / take + v.size() / (2 * take)]);
      fp_platform.push_back(static_cast<int>(p));
    }
  }
  std::vector<std::vector<float>> fps(fp_obs.size());
  parallel_for(fp_obs.size(), threads, [&](std::size_t i) {
    const Observation& ob = obs.obs[fp_obs[i]];
    FootprintOptions fo;
    fo.particles = request.footprint_particles;
    fo.duration_s = std::clamp(std::min(ob.t_start + ob.averaging_s - span_start + 1800.0, 3.0 * diag / mean_speed + 600.0),
                               600.0, 12 * 3600.0);
    fo.dt_s = std::clamp(0.5 * grid.cell_m / mean_speed, 2.0, 60.0);
    fo.receptor_height_m = ob.z_m;
    fo.emit_start = span_start;
    fo.emit_end = span_end;
    fo.seed = 1000 + i;
    fps[i] = particle_footprint(wind, grid, ob.x_m, ob.y_m, ob.t_start, ob.averaging_s, fo);
  });
  std::vector<std::vector<double>> platform_fp(obs.platforms.size());
  std::vector<int> platform_n(obs.platforms.size(), 0);
  out.footprint.assign(grid.size(), 0.0f);
  for (std::size_t i = 0; i < fps.size(); ++i) {
    auto& acc = platform_fp[static_cast<std::size_t>(fp_platform[i])];
    if (acc.empty()) acc.assign(grid.size(), 0.0);
    for (std::size_t k = 0; k < grid.size() && k < fps[i].size(); ++k) acc[k] += fps[i][k];
    ++platform_n[static_cast<std::size_t>(fp_platform[i])];
  }
  std::vector<double> platform_max(obs.platforms.size(), 0.0);
  for (std::size_t p = 0; p < platform_fp.size(); ++p) {
    if (platform_fp[p].empty()) continue;
    for (std::size_t k = 0; k < grid.size(); ++k) {
      platform_fp[p][k] /= platform_n[p];
      out.footprint[k] += static_cast<float>(platform_fp[p][k] / static_cast<double>(obs.platforms.size()));
    }
    // The particles are a sample: the 5 % test below compares the 3 x 3 box means of the
    // platform's footprint, so that neither its peak (a maximum of noisy cells, biased high) nor
    // the value near a candidate hangs on a few particles.
    std::vector<double> smooth(grid.size(), 0.0);
    for (int r = 0; r < grid.rows; ++r)
      for (int c0 = 0; c0 < grid.cols; ++c0) {
        double sum = 0;
        int n = 0;
        for (int dr = -1; dr <= 1; ++dr)
          for (int dc = -1; dc <= 1; ++dc) {
            const int rr = r + dr, cc = c0 + dc;
            if (rr < 0 || rr >= grid.rows || cc < 0 || cc >= grid.cols) continue;
            sum += platform_fp[p][static_cast<std::size_t>(rr) * grid.cols + cc];
            ++n;
          }
        smooth[static_cast<std::size_t>(r) * grid.cols + c0] = sum / n;
      }
    platform_fp[p] = std::move(smooth);
    for (double v : platform_fp[p]) platform_max[p] = std::max(platform_max[p], v);
  }

  lap("footprints");
  // full posterior raster: unlisted mass over the grid + each candidate at its cell
  out.posterior.resize(grid.size());
  for (std::size_t k = 0; k < grid.size(); ++k)
    out.posterior[k] = static_cast<float>(inv.unlisted_probability * inv.grid_posterior[k]);
  for (std::size_t j = 0; j < sites.size(); ++j)
    if (grid.contains(sites[j].x_m, sites[j].y_m))
      out.posterior[static_cast<std::size_t>(grid.row_of(sites[j].y_m)) * grid.cols + grid.col_of(sites[j].x_m)] +=
          static_cast<float>(inv.probability[j]);

  // jurisdictions
  std::optional<JurisdictionIndex> index;
  Diagnostics geo_diag;
  std::vector<LonLat> cand_ll, rec_ll;
  for (const Source& s : c.sources) cand_ll.push_back({s.lon, s.lat});
  // receptor positions, each once (a station's hourly means all stand at the station), and the
  // receptor of every observation
  std::vector<std::uint32_t> receptor_of(obs.obs.size());
  {
    std::map<std::pair<double, double>, std::uint32_t> seen;
    for (std::size_t i = 0; i < obs.obs.size(); ++i) {
      const Observation& ob = obs.obs[i];
      const auto [it, added] = seen.emplace(std::make_pair(ob.lon, ob.lat), static_cast<std::uint32_t>(rec_ll.size()));
      if (added) rec_ll.push_back({ob.lon, ob.lat});
      receptor_of[i] = it->second;
    }
  }
  std::vector<std::vector<std::uint32_t>> explained_receptors(sites.size());
  for (std::size_t j = 0; j < sites.size() && j < inv.explained_obs.size(); ++j)
    for (const std::uint32_t i : inv.explained_obs[j]) explained_receptors[j].push_back(receptor_of[i]);
  if (c.boundaries) {
    // Only the areas around the case are repaired and indexed: the lon/lat box of the grid (its
    // edges sampled, as a UTM rectangle is curved in lon/lat), the candidates and the receptors.
    std::array<double, 4> box{1e300, 1e300, -1e300, -1e300};
    auto grow = [&](double lon, double lat) {
      if (!std::isfinite(lon) || !std::isfinite(lat)) return;
      box = {std::min(box[0], lon), std::min(box[1], lat), std::max(box[2], lon), std::max(box[3], lat)};
    };
    const double gx0 = grid.x0_m, gy1 = grid.y1_m, gw = grid.cols * grid.cell_m, gh = grid.rows * grid.cell_m;
    constexpr int kEdgeSamples = 32;
    for (int k = 0; k <= kEdgeSamples; ++k) {
      const double f = static_cast<double>(k) / kEdgeSamples;
      const double xs[4] = {gx0 + f * gw, gx0 + f * gw, gx0, gx0 + gw};
      const double ys[4] = {gy1, gy1 - gh, gy1 - f * gh, gy1 - f * gh};
      for (int e = 0; e < 4; ++e) {
        double lon = 0, lat = 0;
        tr.inverse(xs[e], ys[e], lon, lat);
        grow(lon, lat);
      }
    }
    for (const LonLat& p : cand_ll) grow(p.lon, p.lat);
    for (const LonLat& p : rec_ll) grow(p.lon, p.lat);
    if (box[0] <= box[2]) index.emplace(*c.boundaries, geo_diag, 200.0, box);
    else index.emplace(*c.boundaries, geo_diag);
  }
  Attribution attr;
  if (index) attr = attribute(*index, cand_ll, inv.probability, explained_receptors, rec_ll, grid, tr,
                              inv.grid_posterior, inv.unlisted_probability);

  lap("jurisdictions");
  // diagnostics.border_flux: for each likely cross-border candidate, the mass carried across the
  // border between its jurisdiction and each other jurisdiction its plume was seen in, over the
  // release span and the observation window after it (each pair once)
  json border_pairs = json::array();
  if (index) {
    std::map<std::pair<std::string, std::string>, std::size_t> done;  // (A, B) -> entry
    auto area_index = [&](const std::string& code) {
      for (std::size_t i = 0; i < index->areas().size(); ++i)
        if (index->areas()[i].code == code) return static_cast<int>(i);
      return -1;
    };
    for (std::size_t j = 0; j < sites.size() && j < attr.cross_border.size(); ++j) {
      if (!attr.cross_border[j] || !attr.candidate[j] || inv.probability[j] < tuning::kProfileMinProbability) continue;
      for (const AffectedArea& a : attr.affected[j]) {
        const std::string& ca = attr.candidate[j]->code;
        if (a.area.code == ca) continue;
        const auto key = std::make_pair(ca, a.area.code);
        if (const auto it = done.find(key); it != done.end()) {
          border_pairs[it->second]["candidates"].push_back(c.sources[j].id);
          continue;
        }
        const int ia = area_index(ca), ib = area_index(a.area.code);
        if (ia < 0 || ib < 0) continue;
        const BorderFluxResult r = border_flux_between(*index, ia, ib, tr, wind, obs, span_start, use_end, io.to_case_units);
        if (r.border_length_m <= 0) continue;  // not neighbours: the plume crossed a third area
        json e = border_flux_fields(ca, a.area.code, r);
        e["candidates"] = json::array({c.sources[j].id});
        done.emplace(key, border_pairs.size());
        border_pairs.push_back(std::move(e));
      }
    }
  }
  lap("border_flux");
  // evidence.upwind_of: platforms whose footprint at the candidate's cell is >= 5 % of its peak
  std::vector<std::vector<std::string>> upwind(sites.size());
  for (std::size_t j = 0; j < sites.size(); ++j) {
    if (!grid.contains(sites[j].x_m, sites[j].y_m)) continue;
    const int r0 = grid.row_of(sites[j].y_m), c0 = grid.col_of(sites[j].x_m);
    for (std::size_t p = 0; p < platform_fp.size(); ++p) {
      if (platform_fp[p].empty() || platform_max[p] <= 0) continue;
      double v = 0;  // max over the 3x3 neighbourhood (of box means): the candidate's cell ± 1
      for (int dr = -1; dr <= 1; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          const int r = r0 + dr, cc = c0 + dc;
          if (r >= 0 && r < grid.rows && cc >= 0 && cc < grid.cols)
            v = std::max(v, platform_fp[p][static_cast<std::size_t>(r) * grid.cols + cc]);
        }
      if (v >= 0.05 * platform_max[p]) upwind[j].push_back(obs.platforms[p].id);
    }
  }

  // the ranking order
  std::vector<std::size_t> order(sites.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return inv.probability[a] > inv.probability[b]; });

  // release profiles: per-block non-negative rates over the emission window, for the leading
  // candidates (hourly blocks, shorter for short windows)
  const std::vector<EpochSeconds> block_starts = release_blocks(span_start, span_end);
  std::vector<std::optional<ReleaseProfile>> profile(sites.size());
  {
    std::vector<std::size_t> profiled;
    for (std::size_t r = 0; r < order.size(); ++r)
      if (static_cast<int>(r) < tuning::kProfileTopCandidates ||
          inv.probability[order[r]] >= tuning::kProfileMinProbability)
        profiled.push_back(order[r]);
    parallel_for(profiled.size(), threads, [&](std::size_t k) {
      const std::size_t j = profiled[k];
      profile[j] = release_profile_g_s(op, obs, sites[j], block_starts, io.to_case_units);
    });
  }
  lap("release_profiles");
  json doc;
  doc["pollutant"] = pollutant;
  doc["window"] = {{"start", fmt(start, request.start)}, {"end", fmt(end, request.end)},
                   {"given", window_given},
                   {"release_span", {{"start", fmt(span_start, request.start)}, {"end", fmt(span_end, request.end)}}}};
  json cands = json::array();
  int rank = 0;
  for (std::size_t j : order) {
    const Source& s = c.sources[j];
    json cj;
    cj["id"] = s.id;
    cj["name"] = s.name;
    cj["lon"] = s.lon;
    cj["lat"] = s.lat;
    cj["rank"] = ++rank;
    cj["probability"] = inv.probability[j];
    cj["emission_rate_g_s"] = {{"estimate", round_to(inv.rate[j].estimate, 4)},
                               {"p05", round_to(inv.rate[j].p05, 4)},
                               {"p95", round_to(inv.rate[j].p95, 4)}};
    if (index && j < attr.candidate.size() && attr.candidate[j])
      cj["jurisdiction"] = {{"code", attr.candidate[j]->code}, {"name", attr.candidate[j]->name}};
    else
      cj["jurisdiction"] = nullptr;
    json affected = json::array();
    if (index && j < attr.affected.size())
      for (const AffectedArea& a : attr.affected[j])
        affected.push_back({{"code", a.area.code}, {"name", a.area.name}, {"observations", a.observations}});
    cj["affected_jurisdictions"] = affected;
    cj["cross_border"] = index && j < attr.cross_border.size() ? static_cast<bool>(attr.cross_border[j]) : false;
    if (profile[j]) {
      const auto& q = profile[j]->rate_g_s;
      const auto& seen = profile[j]->constrained;
      json prof = json::array();
      for (std::size_t b = 0; b < q.size(); ++b) {
        json e = {{"start", fmt(block_starts[b], request.start)}, {"rate_g_s", seen[b] ? json(round_to(q[b], 3)) : json(nullptr)}};
        if (!seen[b]) e["constrained"] = false;  // the data barely see a release in this block
        prof.push_back(std::move(e));
      }
      json rel = {{"start", nullptr}, {"end", nullptr}, {"profile", prof}};
      if (const auto& period = profile[j]->period_blocks) {
        rel["start"] = fmt(block_starts[period->first], request.start);
        rel["end"] = fmt(block_starts[period->second + 1], request.start);
      }
      cj["release"] = rel;
    } else {
      cj["release"] = nullptr;
    }
    cj["evidence"] = {{"observations_explained", inv.explained[j]}, {"upwind_of", upwind[j]}};
    if (!c.monitoring.empty()) {
      json flags = json::array();
      for (const SignalFlag& f : signals[j].flags)
        flags.push_back({{"kind", f.kind}, {"start", fmt(f.start_s, request.start)}, {"end", fmt(f.end_s, request.start)},
                         {"detail", f.detail}});
      cj["evidence"]["flags"] = flags;
      cj["evidence"]["prior_factor"] = signals[j].prior_factor;
    }
    cands.push_back(cj);
  }
  doc["candidates"] = cands;
  double plon = 0, plat = 0;
  tr.inverse(inv.peak_x_m, inv.peak_y_m, plon, plat);
  doc["unlisted"] = {{"probability", inv.unlisted_probability},
                     {"peak", {{"lon", round_to(plon, 9)}, {"lat", round_to(plat, 9)}}},
                     {"area_km2_90", round_to(inv.area_m2_90 / 1e6, 4)},
                     {"emission_rate_g_s",
                      {{"estimate", round_to(inv.unlisted_rate.estimate, 4)},
                       {"p05", round_to(inv.unlisted_rate.p05, 4)},
                       {"p95", round_to(inv.unlisted_rate.p95, 4)}}},
                     // unmatched imagery hotspots that shaped its spatial prior (tuning::kHotspotPriorShare)
                     {"hotspots_in_prior", io.unlisted_hotspots.size()}};
  doc["no_release"] = {{"probability", inv.no_release_probability}};
  if (!c.imagery.empty()) {
    json hs = json::array();
    for (const Hotspot& h : hotspots)
      hs.push_back({{"lon", round_to(h.lon, 7)}, {"lat", round_to(h.lat, 7)}, {"area_m2", round_to(h.area_m2, 1)},
                    {"peak", round_to(h.peak, 4)}, {"background", round_to(h.background, 4)}, {"unit", h.unit},
                    {"image", h.image}, {"pixels", h.pixels},
                    {"centroid", {{"lon", round_to(h.centroid_lon, 7)}, {"lat", round_to(h.centroid_lat, 7)}}},
                    {"matched", h.matched ? json(*h.matched) : json(nullptr)},
                    {"matched_distance_m", h.matched ? json(round_to(h.matched_distance_m, 1)) : json(nullptr)}});
    doc["hotspots"] = hs;
  }
  json areas = json::array();
  for (const AreaShare& a : attr.areas)
    areas.push_back({{"code", a.area.code}, {"name", a.area.name}, {"probability", a.probability}});
  doc["jurisdictions"] = areas;
  json recs = json::array();
  for (const Jurisdiction& r : attr.receptors) recs.push_back({{"code", r.code}, {"name", r.name}});
  doc["receptor_jurisdictions"] = recs;
  json pairs = json::array();
  for (std::size_t p = 0; p < std::min<std::size_t>(inv.pairs.size(), 3); ++p) {
    const PairResult& pr = inv.pairs[p];
    pairs.push_back({{"ids", {c.sources[static_cast<std::size_t>(pr.a)].id, c.sources[static_cast<std::size_t>(pr.b)].id}},
                     {"probability", pr.probability},
                     {"emission_rate_g_s", {round_to(pr.rate_a.estimate, 4), round_to(pr.rate_b.estimate, 4)}}});
  }
  json met = json::array();  // the network-mean meteorology the kernels used, per wind slice
  for (const auto& sl : wind.slices) {
    if (sl.t + 3600 < span_start || sl.t - 3600 > use_end) continue;
    double su = 0, sv = 0, ss = 0;
    int n = 0;
    for (std::size_t k = 0; k < sl.u.size(); ++k)
      if (std::isfinite(sl.u[k])) {
        su += sl.u[k];
        sv += sl.v[k];
        ss += sl.speed[k];
        ++n;
      }
    if (n == 0) continue;
    double dir = std::atan2(-su, -sv) * 180.0 / M_PI;
    if (dir < 0) dir += 360;
    met.push_back({{"time", fmt(sl.t, request.start)}, {"wind_speed", round_to(ss / n, 3)},
                   {"wind_dir", round_to(dir, 4)}, {"stability", std::string(1, to_char(sl.stability))},
                   {"mixing_height_m", round_to(sl.mixing_height_m, 4)},
                   {"sigma_theta_deg", sl.sigma_theta_deg > 0 ? json(round_to(sl.sigma_theta_deg, 3)) : json(nullptr)}});
  }
  json platforms = json::array();
  for (const Platform& p : obs.platforms)
    platforms.push_back({{"id", p.id}, {"background", round_to(p.background, 4)}, {"noise", round_to(p.noise, 4)},
                         {"background_source", to_string(p.background_source)}});
  // survey traces: lag, rolling background, cells and passes, plume crossings (fusion/mobile.hpp)
  json mobile = json::array();
  for (const MobileReport& m : obs.mobile) {
    json peaks = json::array();
    std::vector<const MobilePeak*> by_area;
    for (const MobilePeak& pk : m.peaks) by_area.push_back(&pk);
    std::sort(by_area.begin(), by_area.end(), [](const MobilePeak* a, const MobilePeak* b) { return a->area > b->area; });
    constexpr std::size_t kPeaksListed = 20;  // the largest crossings; the count says how many in all
    for (std::size_t k = 0; k < by_area.size() && k < kPeaksListed; ++k) {
      const MobilePeak& pk = *by_area[k];
      double lon = 0, lat = 0;
      if (!tr.inverse(pk.x_m, pk.y_m, lon, lat)) continue;
      peaks.push_back({{"time", fmt(pk.t_peak, request.start)}, {"lon", round_to(lon, 6)}, {"lat", round_to(lat, 6)},
                       {"height", round_to(pk.height, 4)}, {"area", round_to(pk.area, 4)},
                       {"length_m", round_to(pk.length_m, 1)}, {"duration_s", round_to(pk.t_end - pk.t_start, 1)}});
    }
    json lag = {{"seconds", m.lag_s}, {"source", m.lag_source}};
    if (m.lag_source != "case") {
      lag["crossing_pairs"] = m.lag_pairs;
      lag["spread_s"] = round_to(m.lag_spread_s, 3);
    }
    if (!m.lag_note.empty()) lag["note"] = m.lag_note;
    mobile.push_back({{"platform", obs.platforms[static_cast<std::size_t>(m.platform)].id},
                      {"lag", lag},
                      {"background", m.rolling_background
                                         ? json{{"method", "rolling low quantile"},
                                                {"min", round_to(m.background_min, 4)},
                                                {"max", round_to(m.background_max, 4)}}
                                         : json{{"method", "platform"}}},
                      {"cell_m", round_to(m.cell_m, 2)},
                      {"cells", m.cells},
                      {"passes", m.passes},
                      {"max_passes_per_cell", m.max_passes},
                      {"peak_count", m.peaks.size()},
                      {"peaks", peaks}});
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_begin).count();
  std::ostringstream model;
  model << "lagrangian-plume: back-trajectories through the " << wind.source()
        << " wind field, Gaussian plume in the trajectory frame (Briggs rural sigmas), "
        << op.members() << "-member wind-direction ensemble (±" << (oo.rotations_deg.empty() ? 0 : oo.rotations_deg.back())
        << " deg); Student-t log-space likelihood; single, two-source and unregistered-grid hypotheses";
  json warnings = json::array();  // imagery bands the hotspot search could not read
  for (const Warning& w : hotspot_diag.warnings()) warnings.push_back(w.file + ": " + w.message);
  doc["diagnostics"] = {{"observations_used", obs.obs.size()},
                        {"raw_samples", obs.raw_samples},
                        {"rejected_rows", c.diagnostics.rejected().size()},
                        {"wind_source", wind.source()},
                        {"model", model.str()},
                        {"version", kVersion},
                        {"crs", crs},
                        {"grid", {{"cell_m", grid.cell_m}, {"cols", grid.cols}, {"rows", grid.rows}}},
                        {"observation_window", {{"start", fmt(span_start, request.start)}, {"end", fmt(use_end, request.end)}}},
                        {"units", units},
                        {"hypotheses", inv.hypotheses},
                        {"mobile", mobile},
                        {"usual_emissions",
                         {{"modelled", io.usual_emissions},
                          {"mode", to_string(request.usual_emissions)},
                          {"scale", round_to(usual.scale, 6)},
                          {"mean_rate_g_s", round_to(usual.mean_rate_g_s, 6)},
                          {"facilities_seen", usual.facilities},
                          {"facilities_with_permitted_rate", usual.permitted},
                          {"max_at_an_observation", round_to(usual.max_usual, 4)},
                          {"log_likelihood_gain", round_to(usual.log_likelihood_gain, 3)}}},
                        {"top_pairs", pairs},
                        {"fused",
                         {{"method", "simple kriging of the excess over background, exponential covariance "
                                     "(fusion/fused_field.hpp)"},
                          {"sigma", round_to(out.fused.sigma, 4)},
                          {"correlation_length_m", out.fused.length_m},
                          {"data", out.fused.data}}},
                        {"platforms", platforms},
                        {"met", met},
                        {"border_flux", {{"window", {{"start", fmt(span_start, request.start)}, {"end", fmt(use_end, request.end)}}},
                                         {"method", border_flux_method()},
                                         {"pairs", border_pairs}}},
                        {"timings_s", timings},
                        {"elapsed_s", round_to(elapsed, 3)}};
  if (!warnings.empty()) doc["diagnostics"]["warnings"] = warnings;
  if (std::isfinite(held_out_off)) {
    // the held-out log density of each model (UsualEmissionsMode::choose; the larger was used)
    json& ue = doc["diagnostics"]["usual_emissions"];
    ue["held_out_log_density"] = {{"off", round_to(held_out_off, 3)}};
    if (std::isfinite(held_out_fit)) ue["held_out_log_density"]["fit"] = round_to(held_out_fit, 3);
  }
  {
    json scores = json::array();
    for (const auto& [t, sc] : inv.temper_scores) scores.push_back({{"temper", t}, {"held_out_log_score", round_to(sc, 3)}});
    doc["diagnostics"]["tempering"] = {
        {"temper", inv.temper},
        {"method", inv.temper_scores.size() <= 1
                       ? "given"
                       : "held-out predictive check: the value of the grid whose posterior, fitted without each "
                         "wind-direction block in turn, best predicts that block (inversion/inversion.hpp)"},
        {"folds", inv.temper_folds},
        {"candidates", scores}};
    if (std::isfinite(inv.held_out_log_density))
      doc["diagnostics"]["tempering"]["held_out_log_density"] = round_to(inv.held_out_log_density, 3);
  }
  out.ranking = std::move(doc);
  return out;
}

const char* to_string(UsualEmissionsMode mode) noexcept {
  switch (mode) {
    case UsualEmissionsMode::off: return "off";
    case UsualEmissionsMode::fit: return "fit";
    case UsualEmissionsMode::choose: return "auto";
  }
  return "auto";
}

std::optional<UsualEmissionsMode> parse_usual_emissions_mode(std::string_view text) noexcept {
  for (UsualEmissionsMode m : {UsualEmissionsMode::off, UsualEmissionsMode::fit, UsualEmissionsMode::choose})
    if (text == to_string(m)) return m;
  return std::nullopt;
}

json ranking_geojson(const json& ranking) {
  json fc = {{"type", "FeatureCollection"}, {"features", json::array()}};
  for (const json& cj : ranking.at("candidates")) {
    json props = cj;
    props.erase("lon");
    props.erase("lat");
    props["kind"] = "registry";
    fc["features"].push_back({{"type", "Feature"},
                              {"geometry", {{"type", "Point"}, {"coordinates", {cj.at("lon"), cj.at("lat")}}}},
                              {"properties", props}});
  }
  const json& u = ranking.at("unlisted");
  fc["features"].push_back(
      {{"type", "Feature"},
       {"geometry", {{"type", "Point"}, {"coordinates", {u.at("peak").at("lon"), u.at("peak").at("lat")}}}},
       {"properties", {{"kind", "unlisted_peak"}, {"probability", u.at("probability")}, {"area_km2_90", u.at("area_km2_90")}}}});
  return fc;
}

void write_trace_outputs(const TraceResult& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InvalidInput("cannot create output folder " + dir.string() + ": " + ec.message());
  auto write_text = [&](const std::string& name, const std::string& text) {
    std::ofstream f(dir / name, std::ios::binary);
    f << text << '\n';
    if (!f) throw InvalidInput("cannot write " + (dir / name).string());
  };
  write_text("ranking.json", r.ranking.dump(2));
  write_text("ranking.geojson", ranking_geojson(r.ranking).dump(2));
  write_cog(dir / "posterior.tif", r.grid, r.crs_wkt, r.posterior, "source-location probability", "1");
  write_cog(dir / "footprint.tif", r.grid, r.crs_wkt, r.footprint, "mean receptor sensitivity", "s/m3");
  const std::string units = r.ranking.at("diagnostics").value("units", "");
  write_cog_bands(dir / "fused.tif", r.grid, r.crs_wkt,
                  {{&r.fused.value, "fused excess over background (simple kriging)", units},
                   {&r.fused.uncertainty, "its standard error", units},
                   {&r.fused.count, "observations in the cell", "1"}});
  // observations.csv: one row per observation; the id fields quoted (RFC 4180)
  std::ostringstream csv;
  csv.precision(10);
  csv << "platform,kind,time,averaging_s,lon,lat,height_m,value,background,usual,noise,samples,passes,"
         "top_candidate,top_modelled";
  for (const ObservationRecord& o : r.observations)
    csv << '\n' << csv_quoted(o.platform) << ',' << o.kind << ',' << o.time << ',' << o.averaging_s << ',' << o.lon << ','
        << o.lat << ',' << o.height_m << ',' << o.value << ',' << o.background << ',' << o.usual << ',' << o.noise
        << ',' << o.samples << ',' << o.passes << ',' << csv_quoted(r.top_candidate) << ',' << o.top_modelled;
  write_text("observations.csv", csv.str());
}

namespace {

/// A rate in g/s with 3 significant figures, in fixed notation from 0.001 g/s up (so that an
/// interval never reads like "1.11e-05-166"); smaller rates in scientific notation.
std::string format_rate(double g_s) {
  if (!std::isfinite(g_s)) return "-";
  char buf[32];
  if (g_s == 0) return "0";
  if (std::abs(g_s) < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.2g", g_s);
    return buf;
  }
  const int digits = std::max(0, 2 - static_cast<int>(std::floor(std::log10(std::abs(g_s)))));
  std::snprintf(buf, sizeof buf, "%.*f", digits, round_to(g_s, 3));
  return buf;
}

std::string release_text(const json& cj) {
  if (!cj.contains("release") || !cj["release"].is_object() || !cj["release"]["start"].is_string()) return "-";
  // "2021-06-01T23:00:00+08:00" -> "06-01 23:00"
  auto short_time = [](const std::string& t) { return t.size() >= 16 ? t.substr(5, 5) + " " + t.substr(11, 5) : t; };
  return short_time(cj["release"]["start"].get<std::string>()) + ".." + short_time(cj["release"]["end"].get<std::string>());
}

}  // namespace

std::string format_ranking_table(const json& ranking, bool all_rows) {
  std::ostringstream os;
  const json& w = ranking.at("window");
  os << "pollutant " << ranking.value("pollutant", "") << ", " << (w.value("given", true) ? "given window " : "data span ")
     << w.value("start", "") << " .. " << w.value("end", "") << "\n";
  os << std::left << std::setw(5) << "rank" << std::setw(10) << "id" << std::setw(12) << "probability"
     << std::setw(28) << "rate g/s (p05 to p95)" << std::setw(26) << "release" << std::setw(22) << "jurisdiction"
     << std::setw(7) << "cross" << "upwind of\n";
  const json& cands = ranking.at("candidates");
  constexpr std::size_t kTableRows = 10;  // the rest are summarised on one line unless --all
  std::size_t shown = 0;
  double rest_p = 0;
  for (const json& cj : cands) {
    if (!all_rows && shown >= kTableRows) {
      rest_p += cj.value("probability", 0.0);
      continue;
    }
    ++shown;
    const json& er = cj.at("emission_rate_g_s");
    const std::string rate = format_rate(er.value("estimate", 0.0)) + " (" + format_rate(er.value("p05", 0.0)) +
                             " to " + format_rate(er.value("p95", 0.0)) + ")";
    std::string area = "-";
    if (cj.contains("jurisdiction") && cj["jurisdiction"].is_object())
      area = cj["jurisdiction"].value("code", "") + " " + cj["jurisdiction"].value("name", "");
    std::string up;
    for (const auto& u : cj.at("evidence").at("upwind_of")) up += (up.empty() ? "" : ",") + u.get<std::string>();
    char prob[32];
    std::snprintf(prob, sizeof prob, "%.3f", cj.value("probability", 0.0));
    os << std::left << std::setw(5) << cj.value("rank", 0) << std::setw(10) << cj.value("id", "") << std::setw(12)
       << prob << std::setw(28) << rate << std::setw(26) << release_text(cj) << std::setw(22) << area << std::setw(7)
       << (cj.value("cross_border", false) ? "yes" : "no") << (up.empty() ? "-" : up) << "\n";
  }
  if (shown < cands.size()) {
    char line[160];
    std::snprintf(line, sizeof line, "...  %zu more facilities, probability %.3f together (--all lists them)\n",
                  cands.size() - shown, rest_p);
    os << line;
  }
  // monitoring signals of the facilities listed (docs/signals.md)
  for (std::size_t k = 0; k < shown; ++k) {
    const json& ev = cands[k].at("evidence");
    if (!ev.contains("flags") || ev["flags"].empty()) continue;
    os << "flags " << cands[k].value("id", "") << " (prior x" << ev.value("prior_factor", 1.0) << "):";
    for (const json& f : ev["flags"]) os << " " << f.value("kind", "") << " " << f.value("start", "") << ";";
    os << "\n";
  }
  const json& u = ranking.at("unlisted");
  char line[320];
  const json ur = u.value("emission_rate_g_s", json::object());
  std::snprintf(line, sizeof line,
                "unlisted source: probability %.3f, peak %.5f,%.5f, 90%% area %.3g km2, rate %s g/s (%s to %s)\n",
                u.value("probability", 0.0), u.at("peak").value("lon", 0.0), u.at("peak").value("lat", 0.0),
                u.value("area_km2_90", 0.0), format_rate(ur.value("estimate", 0.0)).c_str(),
                format_rate(ur.value("p05", 0.0)).c_str(), format_rate(ur.value("p95", 0.0)).c_str());
  os << line;
  const json diag = ranking.value("diagnostics", json::object());
  const json usual_emissions = diag.value("usual_emissions", json::object());
  if (ranking.contains("no_release")) {
    std::snprintf(line, sizeof line, "no release (nothing beyond the background%s): probability %.3f\n",
                  usual_emissions.value("modelled", false) ? " and the usual emissions" : "",
                  ranking["no_release"].value("probability", 0.0));
    os << line;
  }
  if (diag.contains("tempering")) {
    const json& t = diag.at("tempering");
    const bool given = t.value("method", "") == "given";
    std::snprintf(line, sizeof line, "tempering %.2g (%s)\n", t.value("temper", 0.0),
                  given ? "given"
                        : "chosen by the held-out check: 0.5 where the data's hours agree with each "
                          "other, lower where they disagree");
    os << line;
  }
  if (!usual_emissions.empty()) {
    const json& u = usual_emissions;
    const bool modelled = u.value("modelled", false);
    const std::string mode = u.value("mode", "");
    std::string why = mode == "auto" ? (modelled ? "the held-out check preferred them" : "the held-out check preferred the background alone")
                                     : "--usual-emissions " + mode;
    if (modelled)
      std::snprintf(line, sizeof line, "usual emissions: modelled, %.3g g/s per facility on average (%s)\n",
                    u.value("mean_rate_g_s", 0.0), why.c_str());
    else
      std::snprintf(line, sizeof line, "usual emissions: not modelled (%s)\n", why.c_str());
    os << line;
  }
  os << "jurisdictions:";
  for (const json& a : ranking.at("jurisdictions")) {
    char buf[128];
    std::snprintf(buf, sizeof buf, " %s %s %.3f;", a.value("code", "").c_str(), a.value("name", "").c_str(),
                  a.value("probability", 0.0));
    os << buf;
  }
  os << "\n";
  return os.str();
}

}  // namespace plumetrace
