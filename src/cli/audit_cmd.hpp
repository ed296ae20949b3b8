#pragma once
// `plumetrace sample-inspections` and `plumetrace audit`: options and handlers (src/cli/audit_cmd.cpp).

#include <map>
#include <string>
#include <vector>

namespace plumetrace::cli {

inline const std::vector<std::string> kSampleOptions{"--inspectors", "--rates", "--seed", "--audit-log"};
extern const char* const kSampleHelp;
/// @throws InvalidInput for bad inputs; Unavailable when the audit record cannot be written.
int run_sample_inspections(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options,
                           bool json_out);

inline const std::vector<std::string> kAuditOptions{"--log", "--case", "--ranking", "--threads"};
extern const char* const kAuditHelp;
/// `audit list|verify|replay ID`. Returns 0, or 1 when verify finds a broken record or replay a
/// different result.
int run_audit(const std::vector<std::string>& positional, const std::map<std::string, std::string>& options,
              bool json_out);

}  // namespace plumetrace::cli
