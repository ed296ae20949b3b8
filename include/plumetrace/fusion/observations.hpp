#pragma once
/// @file observations.hpp
/// Fusion: every measurement of one pollutant (fixed-station means, mobile-survey samples,
/// imagery cells) as an Observation on the analysis grid's CRS, with its averaging time, its
/// platform and that platform's background. Observation operators (inversion room) consume these.

#include <string>
#include <vector>

#include "plumetrace/core/tuning.hpp"
#include "plumetrace/fusion/mobile.hpp"
#include "plumetrace/geo/crs.hpp"
#include "plumetrace/geo/grid.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

/// Station: a fixed point's mean over its period; Path: an open-path sensor's mean along its beam
/// (x0, y0) -> (x1, y1) over its period; Mobile: a survey segment; Imagery: an image cell.
enum class ObservationKind { Station, Mobile, Imagery, Path };

struct Observation {
  ObservationKind kind{ObservationKind::Station};
  int platform{};          ///< index into ObservationSet::platforms
  double x_m{}, y_m{};     ///< receptor position, analysis CRS
  double z_m{};            ///< sampling height above ground
  double lon{}, lat{};
  EpochSeconds t_start{};  ///< start of the averaging period
  double averaging_s{};    ///< 3600 for an hourly mean, ~0 for a mobile sample
  double value{};          ///< concentration in the case's units
  int samples{1};          ///< raw samples merged into this observation (mobile cells)
  int passes{1};           ///< a mobile cell's passes whose means' median `value` is
  /// A mobile segment's first and last sample positions, or an open path's two ends (analysis
  /// CRS; x_m, y_m is then the beam's middle); equal to x_m, y_m for a fixed point. Operators
  /// sample the segment between them.
  double x0_m{}, y0_m{}, x1_m{}, y1_m{};
  /// Modelled contribution of the registry's usual (permitted) emissions at this receptor, case
  /// units: added to the platform's background as the level "no release" expects. 0 until the
  /// inversion room's fit_usual_emissions() sets it.
  double usual{};
};

/// Where a platform's background came from.
enum class BackgroundSource {
  Own,      ///< the low quantile of its own series (enough samples of its own)
  Network,  ///< the pooled low quantile of the platforms of its kind (too few samples of its own)
  Case      ///< case.json `background` (too few samples of its own)
};

/// "own", "network" or "case".
const char* to_string(BackgroundSource s) noexcept;

struct Platform {
  std::string id;          ///< station id, trace name, or "imagery/NAME"
  ObservationKind kind{};
  double background{};     ///< estimated background concentration (low percentile), case units
  double noise{};          ///< robust spread of the platform's background (MAD-based), case units
  BackgroundSource background_source{BackgroundSource::Own};
};

struct FusionOptions {
  double background_percentile{tuning::kBackgroundQuantile};  ///< low quantile taken as background
  /// a platform with fewer values takes the network's (or case.json's) background
  int min_own_background_samples{tuning::kMinOwnBackgroundSamples};
  double mobile_segment_s{tuning::kMobileSegmentS};  ///< a pass over a mobile cell closes after this long (s)
  /// mobile cells (fusion/mobile.hpp) this wide (m) where case.json `traces` gives none; 0: two
  /// analysis-grid cells
  double mobile_cell_m{0.0};
  /// imagery is area-averaged onto the analysis grid, coarsened to at most this many cells (fusion/imagery.hpp)
  std::size_t max_imagery_cells{4000};
};

/// What was done to one survey trace (fusion/mobile.hpp), for the ranking's diagnostics.
struct MobileReport {
  int platform{};              ///< index into ObservationSet::platforms
  double lag_s{0};             ///< sensor lag applied (s)
  std::string lag_source;      ///< "case", "estimated" or "undetermined" (then 0 s)
  std::string lag_note;        ///< why undetermined
  std::size_t lag_pairs{0};    ///< crossing pairs the estimate used (LagEstimate)
  double lag_spread_s{0};      ///< their median absolute deviation (s)
  bool rolling_background{false};  ///< false: too few samples, the platform's background is the network's
  double background_min{0}, background_max{0};  ///< the rolling background's range (drift), case units
  double cell_m{0};            ///< aggregation cell size
  std::size_t cells{0}, passes{0};  ///< observations made, and passes in them
  int max_passes{0};           ///< most passes over one cell (within kMobilePassGroupS)
  std::vector<MobilePeak> peaks;  ///< plume crossings inside the use window (lag-corrected)
};

struct ObservationSet {
  std::vector<Observation> obs;
  std::vector<Platform> platforms;
  std::vector<MobileReport> mobile;  ///< one per survey trace used
  std::size_t raw_samples{};  ///< raw values read (before mobile segmentation)
};

/// Gather every observation of `pollutant` whose averaging period overlaps [use_start, use_end].
/// Background per platform is estimated from ALL of that platform's values (those before
/// use_start included), so it is never assumed zero: its own low quantile when it reported at
/// least `min_own_background_samples` values, else case.json's `background` for the pollutant,
/// else the pooled low quantile of the platforms of the same kind (stations, open paths, survey traces,
/// imagery) when they are at least kMinBackgroundPlatforms with kMinNetworkBackgroundSamples
/// values, else its own values after all. Values are in the case units.
ObservationSet gather_observations(const Case& c, const Transformer& tr, const Grid& grid,
                                   const std::string& pollutant, EpochSeconds use_start,
                                   EpochSeconds use_end, const FusionOptions& options = {});

/// The time span of a pollutant's data: readings (start to end of their periods), trace samples
/// and imagery times; t0 > t1 when there is none. `units`: case.json's units, else the first
/// reading's unit of the pollutant.
struct DataSpan {
  EpochSeconds t0{1e300}, t1{-1e300};
  std::string units;
};
DataSpan pollutant_data_span(const Case& c, const std::string& pollutant);

}  // namespace plumetrace
