#pragma once
/// @file log.hpp
/// The audit log (docs/audit.md): one JSON object per line (JSONL), each record chained to the
/// previous one by its SHA-256 over the bytes written.
///
/// A record line is `BODY` with `,"hash":"H"` inserted before its closing brace, where BODY is the
/// record's JSON without `hash` (keys sorted, no spaces) and H = SHA-256(BODY). BODY holds `seq`
/// (1, 2, ...), `prev` (the previous record's `hash`; 64 zeros for the first), `time` (UTC),
/// `command`, `origin` (`cli` or `serve`), `version`, `inputs` (`[{"path", "sha256", "bytes"}]`),
/// `parameters`, `seeds`, `result_sha256` and whatever else the caller adds.
///
/// Appends are serialised across threads and processes with flock(LOCK_EX) on the log file, write
/// the whole line with one write() and fsync before the lock is released. A line without its
/// final newline (a crash mid-append) is a torn tail: verify reports it as a warning and the next
/// append cuts it off before writing.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace plumetrace::audit {

/// The `prev` of the first record.
inline constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

/// The log path when none is given: $PLUMETRACE_AUDIT_LOG, else $XDG_DATA_HOME/plumetrace/audit.log,
/// else $HOME/.local/share/plumetrace/audit.log. @throws InvalidInput when none of them is set.
[[nodiscard]] std::filesystem::path default_log_path();

/// `option` when non-empty, else default_log_path().
[[nodiscard]] std::filesystem::path resolve_log_path(const std::string& option);

/// What to record; append() adds seq, prev, time, version (when absent) and hash.
struct RecordDraft {
  std::string command;            ///< "trace", "sample-inspections", ...
  std::string origin;             ///< "cli" or "serve"
  nlohmann::json inputs = nlohmann::json::array();  ///< [{"path", "sha256", "bytes"}]
  nlohmann::json parameters = nlohmann::json::object();
  nlohmann::json seeds = nlohmann::json::object();
  std::string result_sha256;
  nlohmann::json extra = nlohmann::json::object();  ///< more keys for the record (must not clash)
};

/// One appended record as written.
struct Record {
  std::uint64_t seq{};
  std::string hash;
  nlohmann::json doc;  ///< the whole record, hash included
};

/// Append a record to the log at `path` (parent folders created). Cuts a torn tail first.
/// @throws Unavailable when the log cannot be opened, locked, read or written (the caller's
/// job then fails: a result without its audit record is not given out); InvalidInput when the
/// last complete record is not a record of this format (append refuses to chain to it).
Record append(const std::filesystem::path& path, const RecordDraft& draft);

/// Check before a long job that the log at `path` can be appended to (parent folders created,
/// the file opened for appending; nothing written). @throws Unavailable naming the reason.
void check_writable(const std::filesystem::path& path);

/// One finding of verify().
struct Finding {
  std::size_t line{};        ///< 1-based line of the log
  std::optional<std::uint64_t> seq;  ///< the record's seq when it could be read
  std::string message;
};

struct VerifyReport {
  std::size_t records{};            ///< complete records that verified (before the first error)
  std::optional<Finding> error;     ///< the first broken record; nullopt = the chain holds
  std::optional<Finding> torn_tail; ///< an incomplete last line (warning)
  std::string last_hash;            ///< hash of the last verified record (kGenesisHash when none)
  [[nodiscard]] bool ok() const noexcept { return !error.has_value(); }
};

/// Check every record: its JSON, its hash over its bytes, seq = previous seq + 1 and prev = the
/// previous record's hash. Stops at the first broken record. A missing file is an empty log.
/// @throws InvalidInput when the file exists and cannot be read.
[[nodiscard]] VerifyReport verify(const std::filesystem::path& path);

/// The complete records of the log, in file order, as parsed JSON (no checks; torn tail skipped;
/// unparsable lines skipped). @throws InvalidInput when the file cannot be read.
[[nodiscard]] std::vector<nlohmann::json> read_records(const std::filesystem::path& path);

/// The record with `id`: its seq ("12") or a prefix of its hash (at least 8 hex digits).
/// @throws NotFound when no record matches (or a hash prefix matches several).
[[nodiscard]] nlohmann::json find_record(const std::filesystem::path& path, const std::string& id);

/// The line written for a record body (its JSON without `hash`, as dumped by nlohmann::json with
/// no indentation): BODY with `,"hash":"SHA256(BODY)"` before the final brace, and a newline.
[[nodiscard]] std::string seal(const std::string& body);

/// SHA-256 of a JSON document in its canonical form here: nlohmann::json::dump() (keys sorted,
/// no spaces, shortest round-trip numbers, UTF-8).
[[nodiscard]] std::string json_sha256(const nlohmann::json& doc);

}  // namespace plumetrace::audit
