#pragma once
// `plumetrace plan`: the command's options and handler (src/cli/plan_cmd.cpp).

#include <map>
#include <string>
#include <vector>

namespace plumetrace::cli {

/// Options of `plumetrace plan` that take a value.
inline const std::vector<std::string> kPlanOptions{"--ranking", "--start-point", "--out", "--posterior",
                                                   "--travel-times", "--speed-km-h", "--audit-log"};

/// Usage text of `plumetrace plan --help`.
extern const char* const kPlanHelp;

/// Parse "LON,LAT" (WGS 84 degrees). @throws InvalidInput naming what is wrong.
void parse_lonlat(const std::string& text, double& lon_deg, double& lat_deg);

/// Run `plumetrace plan CASE_DIR --ranking FILE --out DIR [options]`; prints a summary, or the
/// plan document with `json_out`. Returns the exit status (0).
/// @throws InvalidInput for a bad argument or input (exit 2); Unavailable when the outputs or the
/// audit record cannot be written (exit 3).
int run_plan(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options, bool json_out);

}  // namespace plumetrace::cli
