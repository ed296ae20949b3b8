#pragma once
/// @file border_flux.hpp
/// `plumetrace border-flux`: the mass of a pollutant carried across the border between two
/// jurisdictions in each direction over a window (README "border-flux"; border/flux.hpp for the
/// method; docs/border-flux.md).

#include <string>

#include <nlohmann/json.hpp>

#include "plumetrace/border/flux.hpp"
#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

struct BorderFluxRequest {
  std::string code_a, code_b;  ///< jurisdiction codes of the boundary layer
  std::string pollutant;       ///< "" = case.json's pollutant
  std::string start, end;      ///< ISO 8601; "" = start / end of the pollutant's data
};

/// The document `{"between": [A, B], "a_to_b_kg", "b_to_a_kg", "net_a_to_b_kg", "above_background":
/// {"a_to_b_kg", "b_to_a_kg"}, "method", "pollutant", "window", "border_length_m", ...}`.
/// @throws InvalidInput without boundaries, with a code missing from them, for areas that share no
/// border, without observations of the pollutant, or for bad times.
[[nodiscard]] nlohmann::json run_border_flux(const Case& c, const BorderFluxRequest& request);

/// The fields of one flux result as JSON (masses in kg, unrounded), shared by the
/// command and the ranking's diagnostics.border_flux.
[[nodiscard]] nlohmann::json border_flux_fields(const std::string& code_a, const std::string& code_b,
                                                const BorderFluxResult& r);

/// How the flux is computed, in one line (the documents' "method").
[[nodiscard]] const char* border_flux_method() noexcept;

}  // namespace plumetrace
