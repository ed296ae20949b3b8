#pragma once
/// @file tuning.hpp
/// Every tuned number of the tracer's fusion, operator and inversion, named once, with its unit,
/// its reason and where it was set. The option structs (FusionOptions, OperatorOptions,
/// InversionOptions) take their defaults from here; the code takes no decisive bare literal.
///
/// "Development twins" below means `scripts/twin-experiments.sh` and `scripts/twin-eval.py`
/// on development seeds (1–9999, never the acceptance seeds 900000+); docs/twins.md describes
/// the simulators.

namespace plumetrace::tuning {

// ---------------------------------------------------------------------------------------------
// Fusion: background and noise of each platform
// ---------------------------------------------------------------------------------------------

/// Low quantile of a series taken as its background (fraction; a survey trace's is its centre,
/// kBackgroundClipSigmas below). Stations near a source still
/// spend most hours outside its plume; the 15th percentile is above the instrument floor and
/// below the plume hours (set on the first development twins, 2026-10).
inline constexpr double kBackgroundQuantile = 0.15;

/// A survey trace's background is the centre its quiet samples scatter about, not the low
/// quantile itself (fusion/mobile.hpp background_centre): from the low quantile upward, the median of the
/// values at most kBackgroundClipSigmas noise levels above the estimate, until it settles. Two
/// sigmas keep 98 % of the quiet samples (the fixed point lies 0.03 σ below the centre) and
/// leave out plume samples more than two noise levels up. Development twins (plumetrace-twin,
/// innocents silenced, seed 14): with the low quantile itself, every quiet 100 m cell of a survey
/// car stood +1.3 noise levels above background, and an unregistered source 14.6 km upwind at
/// 65 g/s explained them better than the culprit explained its plume crossing (p 1.00 against
/// 3e-16).
inline constexpr double kBackgroundClipSigmas = 2.0;
inline constexpr int kBackgroundClipIterations = 50;

/// A platform's own series sets its background only with at least this many samples (values).
/// Fewer samples cannot show what "outside the plume" looks like: a passive sampler or a
/// field-campaign bag reports ONE value, which is its own 15th percentile. Below this the
/// network's pooled low quantile of the same platform kind, or case.json `background`, is used
/// (issue #7: a field campaign of one 10-minute mean per sampler put the release first in 1 of 53).
inline constexpr int kMinOwnBackgroundSamples = 8;

/// The pooled network quantile needs at least this many values from at least
/// kMinBackgroundPlatforms platforms; otherwise the platform falls back to its own series.
inline constexpr int kMinNetworkBackgroundSamples = 8;
inline constexpr int kMinBackgroundPlatforms = 3;

/// Robust spread: 1.4826 × MAD is σ for Gaussian data (Rousseeuw & Croux 1993).
inline constexpr double kMadToSigma = 1.4826;

/// Noise floor as a fraction of the background level: a 5 % calibration and drift error that a
/// flat series (MAD 0) must not hide.
inline constexpr double kNoiseFloorFractionOfBackground = 0.05;

/// A survey trace's pass over one of its cells (fusion/mobile.hpp) closes after this long (s):
/// a platform standing still in one cell gives one observation per 90 s, not one for its stay.
inline constexpr double kMobileSegmentS = 90.0;

// Mobile traces (fusion/mobile.hpp). Set from survey practice and checked on the synthetic
// traces of tests/fusion/mobile_test.cpp (known lag, drift and crossings), 2026-12-03.

/// Rolling background of a survey trace: the kMobileBackgroundQuantile quantile of a centred
/// window this long (s). Ten minutes holds several plume crossings of a minute or less each at
/// car speed, so its low tail is background; and follows a drift of the instrument or of the
/// regional level over tens of minutes.
inline constexpr double kMobileBackgroundWindowS = 600.0;
inline constexpr double kMobileBackgroundQuantile = 0.10;
/// The rolling background keeps within kMaxDriftFraction of the trace's own low quantile (or
/// kMaxDriftNoise of its spread, if more): regional levels and instruments drift by tens of per
/// cent over a survey, while a window spent inside a plume reads as a rise of several times
/// (development twins, 2026-12-03: a car driving along a plume raised its rolling background
/// from 7 to 438 µg/m³ and the tracer lost the plume).
inline constexpr double kMaxDriftFraction = 0.5;
inline constexpr double kMaxDriftNoise = 5.0;

/// Sensor lag search (estimate_sensor_lag_s): 0 to kMaxSensorLagS (s) in kLagStepS steps. Lags
/// of inlet lines and closed-path analysers are 2–30 s; 60 s is a long line on a boat.
inline constexpr double kMaxSensorLagS = 60.0;
inline constexpr double kLagStepS = 0.5;
/// Two crossings are of "opposite directions" when their headings differ by at least this
/// (degrees); the heading is taken over ± kLagHeadingHalfSpanS (s) around the crossing.
inline constexpr double kLagMinHeadingDifferenceDeg = 120.0;
inline constexpr double kLagHeadingHalfSpanS = 5.0;
/// A pair's lag-corrected crossings must meet within this (m): one plume, one place (a few
/// samples at car speed and 1–2 s sampling).
inline constexpr double kLagPairMatchM = 40.0;
/// At least this many pairs, agreeing within this median absolute deviation (s): a plume that
/// moved between passes displaces one pair, not all.
inline constexpr int kLagMinPairs = 2;
inline constexpr double kLagMaxSpreadS = 4.0;

/// Peaks: above kPeakNoiseMultiple noise levels, edges down to kPeakEdgeNoiseMultiple, runs
/// closer than kPeakMergeGapS (s) are one crossing.
inline constexpr double kPeakNoiseMultiple = 3.0;
inline constexpr double kPeakEdgeNoiseMultiple = 1.0;
inline constexpr double kPeakMergeGapS = 5.0;
/// A peak needs this many consecutive samples above kPeakNoiseMultiple: at 1 Hz a lone sample
/// 3 noise levels up turns up every few hundred samples by chance (and spikes are common), while
/// a plume crossing lasts seconds to minutes.
inline constexpr int kPeakMinSamples = 2;

/// Passes over one cell starting within this long (s) of the group's first are one observation,
/// the median of their means (a car circling a block, a boat going back and forth): about the
/// short-sample wind-direction block (kShortDirectionBlockS), within which they see one plume.
inline constexpr double kMobilePassGroupS = 900.0;
/// A pass ends at a gap in the samples longer than this (s): the sensor or the GPS dropped out.
inline constexpr double kPassGapS = 30.0;

/// Inlet height (m above ground or water) of a trace without altitude or a `traces` setting: a
/// car roof's.
inline constexpr double kMobileInletHeightM = 2.0;

// ---------------------------------------------------------------------------------------------
// Operator: wind-direction and stability ensembles, back-trajectories
// ---------------------------------------------------------------------------------------------

/// Wind-direction members: rotations of the flow from −kRotationMaxDeg to +kRotationMaxDeg in
/// kRotationStepDeg steps, weighted by a Gaussian prior of σ = kRotationSigmaDeg. Vector-mean
/// hourly winds from one or two masts are off by 10–15° at the plume (Hanna et al. 1993 report
/// σ ≈ 10–20° for single-mast direction error over 1–10 km).
inline constexpr double kRotationMaxDeg = 20.0;
inline constexpr double kRotationStepDeg = 5.0;
inline constexpr double kRotationSigmaDeg = 12.0;

/// Stability members: the diagnosed Pasquill class, one and two classes less stable, with these
/// weights (Turner's method errs toward too stable at dusk and with broken cloud; twins 2026-10).
inline constexpr int kStabilityShifts[] = {0, -1, -2};
inline constexpr double kStabilityWeights[] = {0.4, 0.4, 0.2};

/// Meander inside a member for hourly means (deg): the direction spread within the hour that
/// the hourly vector mean does not show; ramped down to 0 at 10-minute samples.
inline constexpr double kWithinMemberDeg = 10.0;

/// A measured σθ (`wind_dir_std`) is the spread of the directions over its readings' period P
/// (hourly at most stations), meander included. A sample of averaging time T < P sees the
/// spread over T only: σθ(T) = σθ (T / P)^kAveragingTimeExponent, the averaging-time power law
/// of lateral spread (Gifford 1975; Turner's workbook gives p = 0.17-0.2 between 3 min and 1 h),
/// with T held to at least kPowerLawMinAveragingS (below a minute the law no longer holds: the
/// spread is the turbulence's). Development twins (plumetrace-twin single 15, innocents silenced,
/// hourly σθ 7-10 deg): with the hour's σθ for every 1-10 s survey-car cell the culprit's plume
/// came out 2-3x too wide and low, and it ranked 21st at 0.45 g/s (truth 10.4); scaled, 3rd at
/// 7.7 g/s (behind a facility 730 m down the same plume line).
inline constexpr double kAveragingTimeExponent = 0.2;
inline constexpr double kPowerLawMinAveragingS = 60.0;

/// One back-trajectory per this much averaging time of a fixed receptor (s), at most 12.
inline constexpr double kSubSampleS = 1200.0;
/// An open path (paths.csv) is sampled at points half a grid cell apart along its beam, at most
/// this many (each is a back-trajectory scored against every hypothesis): 16 points resolve a
/// plume crossing at 1/16 of the beam, 60 m on a 1 km fence line, narrower than a plume 300 m
/// from a low source (Briggs rural D σy ≈ 25 m; ±2σ ≈ 100 m).
inline constexpr int kMaxPathSamples = 16;

/// No back-trajectory runs longer than this (s): 12 h covers 40 km at 1 m/s.
inline constexpr double kMaxBackS = 12 * 3600.0;

/// Release-time blocks of the reported release profile (s): hourly, or shorter for short data
/// (the data span over kMinProfileBlocks, at least kMinProfileBlockS).
inline constexpr double kProfileBlockS = 3600.0;
inline constexpr int kMinProfileBlocks = 6;
inline constexpr double kMinProfileBlockS = 600.0;

/// Release timing is a prior, not a cut (issue #7 item 5). A release is steady over one interval
/// of whole release blocks inside the emission span; prior mass kGivenWindowPrior on the
/// analyst's window when one is given (analysts' windows are often hours off: half the mass
/// stays elsewhere), kWholeSpanPrior on the whole span (a facility running its excess all day),
/// the rest uniform over every interval of blocks.
inline constexpr double kGivenWindowPrior = 0.5;
inline constexpr double kWholeSpanPrior = 0.2;

/// With a window given, the emission span runs this long (s) before its start and after its end
/// (clipped to the data): a window 2 h early or late still holds the release inside the span.
/// Not wider: every hour more brings in observations that see no release, and on development twins
/// (plumetrace-sim, 12 unregistered-source incidents, seeds 2000-2011, true window given) the
/// unregistered peak's median error was 248 m with no margin, 213 m at 2 h and 319 m at 4 h.
inline constexpr double kWindowPriorMarginS = 2 * 3600.0;

/// The emission span starts this long (s) before the first observation (or the transit time
/// across the case, if shorter): the first samples see air that left its source earlier, and
/// every block more before the data is a block no observation constrains well.
inline constexpr double kReleaseLeadBeforeDataS = 3600.0;

/// The inferred release period runs from the first to the last block whose profile rate is at
/// least this fraction of the profile's peak.
inline constexpr double kReleasePeriodFractionOfPeak = 0.1;

/// A release-profile block is reported (rate and period) only when the network's information about
/// its rate, Σ h² / n² (sensitivity over noise, whatever was observed), is at least this share of
/// the median block's: its standard error at most ~30x the typical block's. On example-101 the
/// culprit's last hour (21:00 UTC, released as the data end) has 2e-7 of the median, a standard
/// error of 13,600 g/s, and the fit gave it 7,390 g/s; every other hour has 0.35 or more.
inline constexpr double kProfileMinInformationShare = 1e-3;

/// The release profile's least squares weigh each observation by 1 / (n² + (f (y − b))²): noise n
/// plus a model error of this fraction f of the plume part (a factor ~1.5-2 error, as
/// kSigmaModelLog, in linear terms).
inline constexpr double kProfileModelErrorFraction = 0.5;

/// Release profiles are computed for the candidates ranked this high, and any other whose
/// probability reaches kProfileMinProbability (each profile costs one operator pass per block).
inline constexpr int kProfileTopCandidates = 10;
inline constexpr double kProfileMinProbability = 0.01;

// ---------------------------------------------------------------------------------------------
// Inversion: hypotheses, priors, likelihood
// ---------------------------------------------------------------------------------------------

/// Prior mass of each family of hypotheses (sums to 1). "No release": nothing beyond the usual
/// (background and permitted emissions) — a bureau opens a trace when readings look unusual,
/// so an incident is more likely than not, but "nothing happened" must be able to win.
inline constexpr double kPriorSingle = 0.68;
inline constexpr double kPriorPair = 0.13;
inline constexpr double kPriorUnlisted = 0.09;
inline constexpr double kPriorNoRelease = 0.10;

/// The usual emissions' common scale a (fit_usual_emissions) is searched up to this multiple of
/// the assumed 1 g/s per facility when the registry gives no rates: a county's small works emit
/// 0.1-10 g/s; 100 allows a registry of a few large plants without letting the usual field
/// grow to explain an incident on its own (the rate grid is coarse there anyway).
inline constexpr double kUsualScaleMax = 100.0;

/// Model error of the plume part (natural-log units): a factor of 2 (σ = ln 2 ≈ 0.7) is the
/// usual skill of Gaussian models against tracer data (FAC2 ≈ 50–70 %, Hanna et al. 1993).
inline constexpr double kSigmaModelLog = 0.7;

/// Student-t degrees of freedom of the log residual: heavy tails for the occasional hour whose
/// wind was simply wrong.
inline constexpr double kStudentNu = 4.0;

/// Weight of a mobile segment relative to a fixed-station mean: consecutive segments of one
/// pass share their wind error.
inline constexpr double kMobileWeight = 0.5;

/// The cells of one image together weigh as this many independent observations: an image is one
/// correlated snapshot (the model's plume position and width at that instant are wrong for every
/// cell at once), about as informative as one pass of a survey car across the plume.
inline constexpr double kImageryEffectiveObservations = 10.0;

/// All log-likelihoods are multiplied by this (< 1): model errors are correlated between
/// observations (one wrong hour shifts every mean at once), so each carries less information.
inline constexpr double kTemper = 0.5;

/// Tempering values the held-out predictive check chooses from (InversionOptions::temper_grid;
/// inversion.hpp "Tempering"), kTemper first. Their range is where the
/// development experiments put the calibrated value: 0.5 ranks the shared example incidents
/// right with p 0.90-0.98 (the model fits them), 0.15 calibrated 45 independent twins
/// (ECE 0.148) that 0.5 left over-confident (ECE 0.471); bench/RESULTS.md "Tempering, direction
/// spread and the usual-emissions fit".
inline constexpr double kTemperGrid[] = {0.5, 0.35, 0.25, 0.15, 0.1};

/// The noise term c of the log residual is at least this fraction of the background: keeps
/// log(y + c) meaningful at concentrations near zero.
inline constexpr double kLogOffsetFractionOfBackground = 0.2;

/// Fluctuation intensity of a sample of averaging time T is √(kFluctuationTimeS / T), capped at 1:
/// the median of a short sample is the plume mean / √(1 + i²) (log-normal fluctuations).
inline constexpr double kFluctuationTimeS = 60.0;

/// Rate grid (g/s): 1 µg/s (a tracer release a few metres from the samplers) to 100 kg/s (an
/// industrial accident), log-spaced, 89 steps (×1.33 per step); the prior is log-uniform.
inline constexpr double kRateMinGS = 1e-6;
inline constexpr double kRateMaxGS = 1e5;
inline constexpr int kRateSteps = 89;

/// A release hypothesis is about a release the data could see: its log-uniform rate prior starts
/// at the rate whose modelled plume reaches kDetectableNoiseMultiple noise levels at the
/// candidate's best-placed observation (in its most favourable wind member). Rates below it are
/// indistinguishable from "no release" and belong to that hypothesis.
inline constexpr double kDetectableNoiseMultiple = 1.0;

/// Rates whose plume is below this fraction of (background + c) change no likelihood term: skipped.
inline constexpr double kNegligiblePlumeFraction = 1e-4;

/// Wind-direction error is independent between blocks of this length (s): hourly for means of
/// 10 minutes and longer, kShortDirectionBlockS for shorter samples (meander).
inline constexpr double kDirectionBlockS = 3600.0;
inline constexpr double kShortDirectionBlockS = 900.0;

/// Two-culprit hypotheses are formed among the best this-many single candidates.
inline constexpr int kPairTop = 6;

/// Each pair member's rate is scored on its own grid around its single-source median:
/// kPairRateLow … kPairRateHigh times it, kPairRateSteps log steps.
inline constexpr double kPairRateLow = 1.0 / 30.0;
inline constexpr double kPairRateHigh = 5.0;
inline constexpr int kPairRateSteps = 21;

/// A pair's probability is shared between its members by a logistic of their single-source
/// evidence difference, kept within [kPairShareMin, 1 − kPairShareMin] so both keep a share.
inline constexpr double kPairShareMin = 0.1;

/// The unregistered-source search runs on blocks of the grid so that no side exceeds this many
/// blocks; the best kUnlistedRefineBlocks blocks get a 3 × 3 quadrature.
inline constexpr int kUnlistedMaxSide = 28;
inline constexpr int kUnlistedRefineBlocks = 12;

/// Release heights (m) an unregistered source's evidence is averaged over, with their weights: a
/// spill, a yard or a ground-level vent (1 m) and a workshop's vent or low stack (10 m). One height of 10 m put a
/// 0.5 m field-campaign release 24 m off with its rate 2.5× high (twin field-noreg 3, 5 m cells).
inline constexpr double kUnlistedHeightsM[] = {1.0, 10.0};
inline constexpr double kUnlistedHeightWeights[] = {0.5, 0.5};

/// Unmatched imagery hotspots (a hot region of a drone image with no registered facility within
/// kHotspotMatchM) focus the unregistered-source search: this share of the `unlisted` prior mass
/// lies around them, in equal parts, as 2-D Gaussians of σ = max(kHotspotLocationSigmaM, one grid
/// cell); the rest stays uniform over the grid. Not all of it: an image is one correlated
/// snapshot and its hotspot may be a plume carried from elsewhere, so it guides the search
/// without deciding it (issue #9: counted as 40,000 independent samples, an image made the answer
/// certain and wrong). Set on reasoning, not fitted.
inline constexpr double kHotspotPriorShare = 0.5;
/// How far a hotspot's peak pixel lies from its source (m): the ground-level maximum of a 10 m
/// release in neutral air lies ~50–100 m downwind of it (Turner 1970: where σz ≈ h/√2), a
/// ground-level one's on it.
inline constexpr double kHotspotLocationSigmaM = 60.0;

/// A facility registered for other pollutants only keeps this fraction of its prior.
inline constexpr double kOtherPollutantPriorFactor = 0.2;

/// An observation is "explained" by a candidate when both its fitted plume and the data stand
/// this many noise levels above background.
inline constexpr double kExplainedNoiseMultiple = 2.0;

// ---------------------------------------------------------------------------------------------
// Monitoring signals (cems.csv, power.csv, mandates.csv): evidence.flags and the prior (issue #10)
// ---------------------------------------------------------------------------------------------

/// Each kind of flag multiplies a candidate's prior once (repeats of a kind add nothing), and the
/// product is capped at kSignalsMaxPriorFactor. The factors are deliberately small against the
/// likelihood: a flag is circumstantial (a meter fault or a maintenance stop looks the same), so it
/// may break a tie between facilities the measurements cannot separate, but never outweigh
/// measurements that single out another facility (a clear culprit's likelihood ratio is 10^3 or
/// more; tests/signals/prior_test.cpp). Treatment off and production in a shutdown are direct
/// evidence that emissions went untreated: 2. A flat-lined or repeating CEMS series and a gap
/// next to an exceedance are signs of tampering with the record: 1.5. Values pinned just under
/// the limit are weak (a well-tuned plant does that too): 1.25.
inline constexpr double kFlagFactorTreatmentOff = 2.0;
inline constexpr double kFlagFactorProductionInShutdown = 2.0;
inline constexpr double kFlagFactorCemsFlatline = 1.5;
inline constexpr double kFlagFactorCemsNearLimit = 1.25;
inline constexpr double kFlagFactorCemsGap = 1.5;
inline constexpr double kSignalsMaxPriorFactor = 4.0;

/// Signals are looked for in the analysis window widened by this much on both sides (s): the
/// analyst's window is often wrong (issue #7), and a bypass is switched on before the release.
inline constexpr double kSignalsWindowMarginS = 6 * 3600.0;

/// A circuit's usual load is this quantile of its series (the treatment circuit's over the times
/// production runs): what it draws when working, not what it draws when someone switched it off.
inline constexpr double kUsualLoadQuantile = 0.9;
/// Production "runs" at or above this fraction of its usual load (standby and lighting stay below).
inline constexpr double kProductionRunningFraction = 0.2;
/// Treatment is "off or far below its load" under this fraction of its usual load.
inline constexpr double kTreatmentLowFraction = 0.3;
/// A power flag needs at least this many consecutive samples (one low reading is a meter glitch).
inline constexpr int kPowerFlagMinSamples = 2;

/// A CEMS series repeating itself: runs where v[i] equals v[i - p] for p = 1 (flat line) up to
/// kRepeatMaxPeriod samples, covering at least kFlatlineMinSamples samples and three periods. A
/// real analyser's last digit moves from one reading to the next; six identical hourly values
/// (or a copied block) do not happen. Runs at zero (the plant stopped) are not flagged.
inline constexpr int kRepeatMaxPeriod = 6;
inline constexpr int kFlatlineMinSamples = 6;

/// Values "pinned just under the limit": at least kNearLimitShare of the samples with a limit lie
/// in [kNearLimitLowFraction × limit, limit], with at least kNearLimitMinSamples such samples.
inline constexpr double kNearLimitLowFraction = 0.9;
inline constexpr double kNearLimitShare = 0.5;
inline constexpr int kNearLimitMinSamples = 6;

/// A gap is a spacing over kGapSpacingFactor × the series' median spacing; it is "around an
/// exceedance" when one of the kGapExceedanceSamples samples before or after it is at or over its limit.
inline constexpr double kGapSpacingFactor = 2.5;
inline constexpr int kGapExceedanceSamples = 2;

}  // namespace plumetrace::tuning
