#pragma once
/// @file report.hpp
/// The printable HTML report of a plan (README "plan"): one self-contained page (the map is
/// embedded as a data: URI; no script, no network) with the assessment, the jurisdictions and
/// their shares, each jurisdiction's inspections in order with their evidence, the route, the
/// map and the provenance (version, input SHA-256s). Every text from the inputs is HTML-escaped.

#include <string>

#include <nlohmann/json.hpp>

namespace plumetrace::plan {

/// `s` with & < > " ' escaped for HTML text and attribute values.
[[nodiscard]] std::string html_escape(const std::string& s);

/// Standard base64 (RFC 4648 §4, with padding).
[[nodiscard]] std::string base64(const std::string& bytes);

/// The report. `provenance` is an object of label -> text shown at the end (version, hashes).
/// @pre plan is build_plan's document.
[[nodiscard]] std::string render_report_html(const nlohmann::json& plan, const std::string& map_png,
                                             const nlohmann::json& provenance);

}  // namespace plumetrace::plan
