#pragma once
/// @file store.hpp
/// What the HTTP service keeps: cases and their files, stations, live readings, jobs, alert rules
/// and alerts. One interface, two backends: the embedded SQLite file under --data (default) and
/// PostgreSQL 15 + PostGIS 3 (`--store postgresql://...`). Uploaded file bytes stay under --data
/// in both, named by their SHA-256; the database keeps the rows.
///
/// Durability: every mutating call returns only after its transaction committed (SQLite: WAL,
/// synchronous=FULL; PostgreSQL: its default synchronous_commit=on), so an answer sent after it
/// survives a crash of the process or the machine.
/// Thread safety: every member may be called from many threads at once.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plumetrace/audit/sha256.hpp"
#include "plumetrace/core/time.hpp"

namespace plumetrace::server {

/// A case file as stored: its case-relative path (CONTRACT §1 name) and content address.
struct StoredFile {
  std::string path;          ///< "sources.csv", "traces/car_01.csv", ...
  std::string sha256;        ///< lower-case hex of the bytes; the blob's name on disk
  std::uint64_t bytes{};     ///< size in bytes
};

/// One live reading, keyed by (station_id, time, variable) within its case.
struct StoredReading {
  std::string station_id;
  EpochSeconds time_s{};           ///< START of the averaging period, UTC (stored to the millisecond)
  std::string variable;            ///< lower-case name
  double value{};                  ///< in `unit`
  std::string unit;                ///< verbatim, may be empty
  std::optional<double> period_s;  ///< averaging period when the client gave one, seconds
};

/// A station's position (WGS 84), from the case's stations.csv.
struct StoredStation {
  std::string id;
  double lon{};  ///< degrees east
  double lat{};  ///< degrees north
};

/// One alert as stored (CONTRACT §4 `GET /api/v1/alerts`).
struct AlertRecord {
  std::string id;             ///< server-made, [0-9a-f]{32}
  std::string case_name;
  std::string station_id;
  std::string pollutant;      ///< lower-case variable name
  EpochSeconds time_s{};      ///< the triggering reading's time (start of its period), UTC
  std::string rule;           ///< which rule fired, e.g. "so2 PT1H mean > 150" or "so2 robust z >= 8"
  double value{};             ///< the period mean (threshold rule) or the robust z-score (anomaly rule)
  std::string job;            ///< id of the trace job the alert started, "" when none could start
  std::string created;        ///< ISO 8601 UTC
};

/// OGC API – Processes job states.
enum class JobStatus { accepted, running, successful, failed, dismissed };

/// "accepted", "running", ...
[[nodiscard]] const char* to_string(JobStatus s) noexcept;
/// Inverse of to_string; nullopt for any other text.
[[nodiscard]] std::optional<JobStatus> job_status_from(std::string_view text) noexcept;

/// One job as stored.
struct JobRecord {
  std::string id;              ///< server-made, [0-9a-f]{32}
  std::string process;         ///< "trace"
  std::string case_name;
  JobStatus status{JobStatus::accepted};
  int progress{0};             ///< percent, 0..100
  std::string message;         ///< human-readable state or failure reason (no server paths)
  std::string request_json;    ///< the execution request's inputs, as JSON text
  std::string result_json;     ///< the ranking document once successful, else ""
  std::string created, started, finished, updated;  ///< ISO 8601 UTC, "" when not yet
};

/// The storage interface of the service.
class Store {
 public:
  virtual ~Store() = default;

  /// Where blobs and job outputs live (a folder the store owns).
  [[nodiscard]] virtual const std::filesystem::path& data_dir() const noexcept = 0;

  /// Save `bytes` as case file `path` of `case_name` (creating the case): the bytes go to a blob
  /// named by their SHA-256 (written and fsync'ed before the row commits).
  /// Returns the stored file and whether the path is new to the case.
  /// @pre case_name and path were validated by the caller (valid_case_name, valid_case_path).
  virtual std::pair<StoredFile, bool> put_file(const std::string& case_name, const std::string& path,
                                               const std::string& bytes) = 0;
  /// The file `path` of the case, or nullopt.
  [[nodiscard]] virtual std::optional<StoredFile> file(const std::string& case_name, const std::string& path) = 0;
  /// Every file of the case, sorted by path.
  [[nodiscard]] virtual std::vector<StoredFile> files(const std::string& case_name) = 0;
  /// The blob file holding the content `sha256`.
  [[nodiscard]] virtual std::filesystem::path blob_path(const std::string& sha256) const = 0;
  /// Whether the case exists (has had a file or a reading).
  [[nodiscard]] virtual bool case_exists(const std::string& case_name) = 0;

  /// Insert readings, ignoring those whose (station_id, time, variable) is already stored, in one
  /// transaction. Returns how many were new.
  virtual std::size_t append_readings(const std::string& case_name, const std::vector<StoredReading>& rows) = 0;
  /// Every stored reading of the case, each once, ordered by (station_id, variable, time).
  [[nodiscard]] virtual std::vector<StoredReading> readings(const std::string& case_name) = 0;
  /// The readings of one station and variable with from_s <= time < to_s, ordered by time.
  [[nodiscard]] virtual std::vector<StoredReading> readings(const std::string& case_name, const std::string& station_id,
                                                            const std::string& variable, EpochSeconds from_s,
                                                            EpochSeconds to_s) = 0;

  /// Replace the case's stations (creating the case), in one transaction.
  virtual void put_stations(const std::string& case_name, const std::vector<StoredStation>& stations) = 0;
  /// The case's stations, sorted by id.
  [[nodiscard]] virtual std::vector<StoredStation> stations(const std::string& case_name) = 0;

  /// Save the case's alert rules (a validated JSON document, creating the case).
  virtual void put_alert_rules(const std::string& case_name, const std::string& rules_json) = 0;
  /// The case's alert rules as saved, or nullopt.
  [[nodiscard]] virtual std::optional<std::string> alert_rules(const std::string& case_name) = 0;
  /// Record `alert` unless the case already has an alert for the same station and pollutant whose
  /// time is less than `dedupe_s` seconds from alert.time_s; check and insert are one transaction,
  /// so two servers (or threads) never both record it. Returns whether it was recorded.
  virtual bool record_alert(const AlertRecord& alert, double dedupe_s) = 0;
  /// Attach the trace job an alert started.
  virtual void set_alert_job(const std::string& alert_id, const std::string& job_id) = 0;
  /// Alerts, newest first (by time, then creation); of one case when `case_name` is not empty.
  [[nodiscard]] virtual std::vector<AlertRecord> alerts(const std::string& case_name) = 0;

  /// Insert a new job (its id must be new).
  virtual void create_job(const JobRecord& job) = 0;
  /// Set status and progress (and started/updated times); a dismissed job is never changed again.
  /// Returns false when the job is dismissed or unknown.
  virtual bool update_job(const std::string& id, JobStatus status, int progress, const std::string& message) = 0;
  /// Record the end of a job: successful with its result document, or failed/dismissed with a
  /// message. A dismissed job stays dismissed. Returns false when it was dismissed or unknown.
  virtual bool finish_job(const std::string& id, JobStatus status, const std::string& message,
                          const std::string& result_json) = 0;
  /// The job, or nullopt.
  [[nodiscard]] virtual std::optional<JobRecord> job(const std::string& id) = 0;
  /// Every job, newest first, without result documents.
  [[nodiscard]] virtual std::vector<JobRecord> jobs() = 0;
  /// Ids of jobs left accepted or running (by a crash or a stop), oldest first; they are set back
  /// to accepted.
  [[nodiscard]] virtual std::vector<std::string> requeue_unfinished_jobs() = 0;
};

/// Open the store `url` under `data_dir` (created when missing): "" or "sqlite" = embedded SQLite
/// at DATA_DIR/plumetrace.sqlite; "postgresql://..." (or "postgres://...", libpq's URI syntax) =
/// that PostgreSQL database, whose tables are created when missing (PostGIS must be available).
/// @throws InvalidInput for an unknown URL scheme; Unavailable when the database cannot be opened.
[[nodiscard]] std::unique_ptr<Store> open_store(const std::string& url, const std::filesystem::path& data_dir);

/// SHA-256 of `bytes` as 64 lower-case hex digits (shared with the audit log).
using audit::sha256_hex;

/// The current time as ISO 8601 UTC with milliseconds ("2024-05-01T12:00:00.250Z").
[[nodiscard]] std::string now_iso8601();

}  // namespace plumetrace::server
