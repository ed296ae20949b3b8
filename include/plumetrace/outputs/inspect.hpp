#pragma once
/// @file inspect.hpp
/// `plumetrace inspect`: what was read from a case folder.

#include <string>

#include <nlohmann/json.hpp>

#include "plumetrace/ingest/case.hpp"

namespace plumetrace {

/// Counts per kind, time span, variables, WGS 84 extent, analysis CRS and grid, jurisdictions
/// touched (by sources, stations and trace points) and every rejected row and warning.
nlohmann::json inspect_case(const Case& c);

/// Human-readable rendering of inspect_case's document.
std::string format_inspect(const nlohmann::json& doc);

}  // namespace plumetrace
