// The PostgreSQL 15 + PostGIS 3 store (`plumetrace serve --store postgresql://...`), through libpq.
// Every client value travels as a bound parameter of PQexecParams; SQL text is constant. One
// connection serves the process, guarded by a mutex (the service's writes are short; a pool would
// add nothing the SQLite backend has). Blob files stay under --data (StoreBase).

#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <mutex>
#include <optional>

#include "plumetrace/core/error.hpp"
#include "store_backends.hpp"

namespace plumetrace::server {
namespace {

namespace fs = std::filesystem;

/// Rows per multi-row INSERT of readings: 1000 rows x 7 parameters stays far under libpq's 65535
/// parameters and amortises the round trip (one statement per 1000 rows instead of per row).
constexpr std::size_t kReadingsPerInsert = 1000;

/// Key of the advisory lock held while the schema is created, so that servers starting together
/// on one database do not race on CREATE ... IF NOT EXISTS ("plumetr" in ASCII, as a number).
constexpr const char* kSchemaLockKey = "31644448993932402";

constexpr const char* kSchema = R"sql(
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE IF NOT EXISTS cases(name text PRIMARY KEY, created text NOT NULL);
CREATE TABLE IF NOT EXISTS files(
  case_name text NOT NULL REFERENCES cases(name), path text NOT NULL, sha256 text NOT NULL,
  bytes bigint NOT NULL, updated text NOT NULL, PRIMARY KEY(case_name, path));
CREATE TABLE IF NOT EXISTS readings(
  case_name text NOT NULL, station_id text NOT NULL, variable text NOT NULL, time_ms bigint NOT NULL,
  value double precision NOT NULL, unit text NOT NULL, period_s double precision,
  PRIMARY KEY(case_name, station_id, variable, time_ms));
CREATE TABLE IF NOT EXISTS stations(
  case_name text NOT NULL REFERENCES cases(name), station_id text NOT NULL,
  geom geometry(Point, 4326) NOT NULL, PRIMARY KEY(case_name, station_id));
CREATE INDEX IF NOT EXISTS stations_geom ON stations USING gist(geom);
CREATE TABLE IF NOT EXISTS jobs(
  id text PRIMARY KEY, seq bigint GENERATED ALWAYS AS IDENTITY, process text NOT NULL, case_name text NOT NULL,
  status text NOT NULL, progress integer NOT NULL, message text NOT NULL, request text NOT NULL,
  result text NOT NULL DEFAULT '', created text NOT NULL, started text NOT NULL DEFAULT '',
  finished text NOT NULL DEFAULT '', updated text NOT NULL);
CREATE TABLE IF NOT EXISTS alert_rules(
  case_name text PRIMARY KEY REFERENCES cases(name), rules text NOT NULL, updated text NOT NULL);
CREATE TABLE IF NOT EXISTS alerts(
  id text PRIMARY KEY, case_name text NOT NULL, station_id text NOT NULL, pollutant text NOT NULL,
  time_ms bigint NOT NULL, rule text NOT NULL, value double precision NOT NULL, job text NOT NULL DEFAULT '',
  created text NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_by_key ON alerts(case_name, station_id, pollutant, time_ms);
)sql";

/// A parameter: text, or SQL NULL.
using Param = std::optional<std::string>;

std::string num(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  return std::string(buf, r.ptr);
}
std::string num(std::int64_t v) { return std::to_string(v); }

/// A query's result, cleared on scope exit.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;

  [[nodiscard]] int rows() const { return PQntuples(r_); }
  [[nodiscard]] std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
  }
  [[nodiscard]] bool is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  [[nodiscard]] std::int64_t int64(int row, int col) const { return std::stoll(text(row, col)); }
  [[nodiscard]] double real(int row, int col) const {
    const std::string t = text(row, col);
    double v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  }
  [[nodiscard]] ExecStatusType status() const { return PQresultStatus(r_); }
  /// The SQLSTATE of a failed statement ("" when none).
  [[nodiscard]] std::string sqlstate() const {
    const char* s = PQresultErrorField(r_, PG_DIAG_SQLSTATE);
    return s ? s : "";
  }
  /// Rows an INSERT/UPDATE/DELETE affected.
  [[nodiscard]] std::size_t affected() const {
    const char* n = PQcmdTuples(r_);
    return n && *n ? static_cast<std::size_t>(std::stoull(n)) : 0;
  }

 private:
  PGresult* r_;
};

class PgStore final : public StoreBase {
 public:
  PgStore(const std::string& url, const fs::path& data_dir) : StoreBase(data_dir) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      // libpq's message names the host and port the operator gave, never a path of ours
      const std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      throw Unavailable("cannot connect to the PostgreSQL store: " + why.substr(0, why.find('\n')));
    }
    // NOTICEs ("relation already exists, skipping") are for interactive sessions, not our log
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    std::lock_guard lock(mu_);
    Tx tx(*this);
    exec(std::string("SELECT pg_advisory_xact_lock(") + kSchemaLockKey + ")", {});
    command(kSchema);
    tx.commit();
  }
  ~PgStore() override {
    if (conn_) PQfinish(conn_);
  }

  bool put_file_row(const std::string& case_name, const StoredFile& f) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    const bool existed = exec("SELECT 1 FROM files WHERE case_name=$1 AND path=$2", {case_name, f.path}).rows() > 0;
    exec("INSERT INTO files(case_name,path,sha256,bytes,updated) VALUES($1,$2,$3,$4::bigint,$5) "
         "ON CONFLICT(case_name,path) DO UPDATE SET sha256=excluded.sha256, bytes=excluded.bytes, updated=excluded.updated",
         {case_name, f.path, f.sha256, num(static_cast<std::int64_t>(f.bytes)), now_iso8601()});
    tx.commit();
    return !existed;
  }

  std::optional<StoredFile> file(const std::string& case_name, const std::string& path) override {
    std::lock_guard lock(mu_);
    const Result r = exec("SELECT sha256, bytes FROM files WHERE case_name=$1 AND path=$2", {case_name, path});
    if (r.rows() == 0) return std::nullopt;
    return StoredFile{path, r.text(0, 0), static_cast<std::uint64_t>(r.int64(0, 1))};
  }

  std::vector<StoredFile> files(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    const Result r = exec("SELECT path, sha256, bytes FROM files WHERE case_name=$1 ORDER BY path COLLATE \"C\"", {case_name});
    std::vector<StoredFile> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), static_cast<std::uint64_t>(r.int64(i, 2))});
    return out;
  }

  bool case_exists(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    return exec("SELECT 1 FROM cases WHERE name=$1", {case_name}).rows() > 0;
  }

  std::size_t append_readings(const std::string& case_name, const std::vector<StoredReading>& rows) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    std::size_t added = 0;
    std::vector<Param> params;
    std::string sql;
    for (std::size_t begin = 0; begin < rows.size(); begin += kReadingsPerInsert) {
      const std::size_t end = std::min(rows.size(), begin + kReadingsPerInsert);
      params.clear();
      sql = "INSERT INTO readings(case_name,station_id,time_ms,variable,value,unit,period_s) VALUES";
      for (std::size_t i = begin; i < end; ++i) {
        const StoredReading& r = rows[i];
        const std::size_t p = params.size();
        sql += (i > begin ? "," : "");
        sql += "($" + std::to_string(p + 1) + ",$" + std::to_string(p + 2) + ",$" + std::to_string(p + 3) +
               "::bigint,$" + std::to_string(p + 4) + ",$" + std::to_string(p + 5) + "::float8,$" +
               std::to_string(p + 6) + ",$" + std::to_string(p + 7) + "::float8)";
        params.emplace_back(case_name);
        params.emplace_back(r.station_id);
        params.emplace_back(num(to_time_ms(r.time_s)));
        params.emplace_back(r.variable);
        params.emplace_back(num(r.value));
        params.emplace_back(r.unit);
        params.push_back(r.period_s ? Param(num(*r.period_s)) : std::nullopt);
      }
      sql += " ON CONFLICT DO NOTHING";
      added += exec(sql, params).affected();
    }
    tx.commit();
    return added;
  }

  std::vector<StoredReading> readings(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    return reading_rows(exec("SELECT station_id, time_ms, variable, value, unit, period_s FROM readings "
                             "WHERE case_name=$1 ORDER BY station_id COLLATE \"C\", variable COLLATE \"C\", time_ms",
                             {case_name}));
  }

  std::vector<StoredReading> readings(const std::string& case_name, const std::string& station_id,
                                      const std::string& variable, EpochSeconds from_s, EpochSeconds to_s) override {
    std::lock_guard lock(mu_);
    return reading_rows(exec("SELECT station_id, time_ms, variable, value, unit, period_s FROM readings "
                             "WHERE case_name=$1 AND station_id=$2 AND variable=$3 AND time_ms>=$4::bigint "
                             "AND time_ms<$5::bigint ORDER BY time_ms",
                             {case_name, station_id, variable, num(to_time_ms(from_s)), num(to_time_ms(to_s))}));
  }

  void put_stations(const std::string& case_name, const std::vector<StoredStation>& stations) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    exec("DELETE FROM stations WHERE case_name=$1", {case_name});
    for (const StoredStation& s : stations)
      exec("INSERT INTO stations(case_name,station_id,geom) "
           "VALUES($1,$2,ST_SetSRID(ST_MakePoint($3::float8,$4::float8),4326)) "
           "ON CONFLICT(case_name,station_id) DO UPDATE SET geom=excluded.geom",
           {case_name, s.id, num(s.lon), num(s.lat)});
    tx.commit();
  }

  std::vector<StoredStation> stations(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    const Result r = exec("SELECT station_id, ST_X(geom), ST_Y(geom) FROM stations WHERE case_name=$1 "
                          "ORDER BY station_id COLLATE \"C\"",
                          {case_name});
    std::vector<StoredStation> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.real(i, 1), r.real(i, 2)});
    return out;
  }

  void put_alert_rules(const std::string& case_name, const std::string& rules_json) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    exec("INSERT INTO alert_rules(case_name,rules,updated) VALUES($1,$2,$3) "
         "ON CONFLICT(case_name) DO UPDATE SET rules=excluded.rules, updated=excluded.updated",
         {case_name, rules_json, now_iso8601()});
    tx.commit();
  }

  std::optional<std::string> alert_rules(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    const Result r = exec("SELECT rules FROM alert_rules WHERE case_name=$1", {case_name});
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  }

  bool record_alert(const AlertRecord& a, double dedupe_s) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    // one lock per (case, station, pollutant), held to the commit: servers sharing the database
    // decide one after the other
    exec("SELECT pg_advisory_xact_lock(hashtext($1 || '/' || $2 || '/' || $3))", {a.case_name, a.station_id, a.pollutant});
    const std::int64_t t = to_time_ms(a.time_s), window = to_time_ms(dedupe_s);
    if (exec("SELECT 1 FROM alerts WHERE case_name=$1 AND station_id=$2 AND pollutant=$3 "
             "AND time_ms>$4::bigint AND time_ms<$5::bigint LIMIT 1",
             {a.case_name, a.station_id, a.pollutant, num(t - window), num(t + window)})
            .rows() > 0)
      return false;
    exec("INSERT INTO alerts(id,case_name,station_id,pollutant,time_ms,rule,value,job,created) "
         "VALUES($1,$2,$3,$4,$5::bigint,$6,$7::float8,$8,$9)",
         {a.id, a.case_name, a.station_id, a.pollutant, num(t), a.rule, num(a.value), a.job, a.created});
    tx.commit();
    return true;
  }

  void set_alert_job(const std::string& alert_id, const std::string& job_id) override {
    std::lock_guard lock(mu_);
    exec("UPDATE alerts SET job=$2 WHERE id=$1", {alert_id, job_id});
  }

  std::vector<AlertRecord> alerts(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    const Result r = exec("SELECT id, case_name, station_id, pollutant, time_ms, rule, value, job, created FROM alerts "
                          "WHERE $1::text='' OR case_name=$1 ORDER BY time_ms DESC, created DESC, id",
                          {case_name});
    std::vector<AlertRecord> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), static_cast<double>(r.int64(i, 4)) / 1000.0,
                     r.text(i, 5), r.real(i, 6), r.text(i, 7), r.text(i, 8)});
    return out;
  }

  void create_job(const JobRecord& j) override {
    std::lock_guard lock(mu_);
    exec("INSERT INTO jobs(id,process,case_name,status,progress,message,request,created,updated) "
         "VALUES($1,$2,$3,$4,$5::integer,$6,$7,$8,$8)",
         {j.id, j.process, j.case_name, std::string(to_string(j.status)), std::to_string(j.progress), j.message,
          j.request_json, j.created});
  }

  bool update_job(const std::string& id, JobStatus status, int progress, const std::string& message) override {
    std::lock_guard lock(mu_);
    return exec("UPDATE jobs SET status=$2, progress=$3::integer, message=$4, updated=$5, "
                "started=CASE WHEN started='' AND $2::text='running' THEN $5 ELSE started END "
                "WHERE id=$1 AND status NOT IN ('dismissed','successful','failed')",
                {id, std::string(to_string(status)), std::to_string(progress), message, now_iso8601()})
               .affected() > 0;
  }

  bool finish_job(const std::string& id, JobStatus status, const std::string& message,
                  const std::string& result_json) override {
    std::lock_guard lock(mu_);
    return exec("UPDATE jobs SET status=$2, progress=CASE WHEN $2::text='successful' THEN 100 ELSE progress END, "
                "message=$3, result=$4, finished=$5, updated=$5 WHERE id=$1 AND status<>'dismissed'",
                {id, std::string(to_string(status)), message, result_json, now_iso8601()})
               .affected() > 0;
  }

  std::optional<JobRecord> job(const std::string& id) override {
    std::lock_guard lock(mu_);
    const Result r = exec(std::string(kJobColumns) + ", result FROM jobs WHERE id=$1", {id});
    if (r.rows() == 0) return std::nullopt;
    JobRecord j = job_from(r, 0);
    j.result_json = r.text(0, 11);
    return j;
  }

  std::vector<JobRecord> jobs() override {
    std::lock_guard lock(mu_);
    const Result r = exec(std::string(kJobColumns) + " FROM jobs ORDER BY seq DESC", {});
    std::vector<JobRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(job_from(r, i));
    return out;
  }

  std::vector<std::string> requeue_unfinished_jobs() override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    const Result r = exec("SELECT id FROM jobs WHERE status IN ('accepted','running') ORDER BY seq FOR UPDATE", {});
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    exec("UPDATE jobs SET status='accepted', progress=0, message='queued again after a restart', updated=$1 "
         "WHERE status IN ('accepted','running')",
         {now_iso8601()});
    tx.commit();
    return out;
  }

 private:
  static constexpr const char* kJobColumns =
      "SELECT id, process, case_name, status, progress, message, request, created, started, finished, updated";

  static JobRecord job_from(const Result& r, int i) {
    JobRecord j;
    j.id = r.text(i, 0);
    j.process = r.text(i, 1);
    j.case_name = r.text(i, 2);
    j.status = job_status_from(r.text(i, 3)).value_or(JobStatus::failed);
    j.progress = static_cast<int>(r.int64(i, 4));
    j.message = r.text(i, 5);
    j.request_json = r.text(i, 6);
    j.created = r.text(i, 7);
    j.started = r.text(i, 8);
    j.finished = r.text(i, 9);
    j.updated = r.text(i, 10);
    return j;
  }

  static std::vector<StoredReading> reading_rows(const Result& r) {
    std::vector<StoredReading> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      StoredReading x{r.text(i, 0), static_cast<double>(r.int64(i, 1)) / 1000.0, r.text(i, 2), r.real(i, 3),
                      r.text(i, 4), std::nullopt};
      if (!r.is_null(i, 5)) x.period_s = r.real(i, 5);
      out.push_back(std::move(x));
    }
    return out;
  }

  /// A transaction, rolled back unless commit() ran. Caller holds mu_.
  class Tx {
   public:
    explicit Tx(PgStore& st) : st_(st) {
      st_.command("BEGIN");
      st_.in_tx_ = true;
    }
    void commit() {
      st_.command("COMMIT");
      done_ = true;
      st_.in_tx_ = false;
    }
    ~Tx() {
      st_.in_tx_ = false;
      if (!done_) PQclear(PQexec(st_.conn_, "ROLLBACK"));
    }
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;

   private:
    PgStore& st_;
    bool done_{false};
  };

  /// A connection lost (the database restarted) is opened again before the next statement that
  /// starts outside a transaction; inside one, the transaction fails (its work is gone with the
  /// connection, and running the rest outside it would commit half of it). Caller holds mu_.
  void reconnect_if_lost() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    if (in_tx_) throw Unavailable("the connection to the PostgreSQL store was lost");
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) throw Unavailable("the PostgreSQL store is unreachable");
  }

  /// Run constant SQL (no parameters; several statements allowed). Caller holds mu_.
  void command(const char* sql) {
    reconnect_if_lost();
    const Result r(PQexec(conn_, sql));
    check(r, PGRES_COMMAND_OK);
  }

  /// Run constant SQL `sql` with bound text parameters. Caller holds mu_.
  Result exec(const std::string& sql, const std::vector<Param>& params) {
    reconnect_if_lost();
    std::vector<const char*> values(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) values[i] = params[i] ? params[i]->c_str() : nullptr;
    Result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(), nullptr, nullptr, 0));
    check(r, PGRES_TUPLES_OK);
    return r;
  }
  Result exec(const std::string& sql, std::initializer_list<std::string> params) {
    return exec(sql, std::vector<Param>(params.begin(), params.end()));
  }

  /// @throws Unavailable unless `r` succeeded: the SQLSTATE and the first line of the server's
  /// message (constraint and column names, never client data beyond what the client sent).
  void check(const Result& r, ExecStatusType want) {
    if (r.status() == want || r.status() == PGRES_COMMAND_OK || r.status() == PGRES_TUPLES_OK) return;
    const std::string msg = PQerrorMessage(conn_);
    throw Unavailable("store: PostgreSQL error " + r.sqlstate() + ": " + msg.substr(0, msg.find('\n')));
  }

  void ensure_case(const std::string& name) {
    exec("INSERT INTO cases(name, created) VALUES($1, $2) ON CONFLICT DO NOTHING", {name, now_iso8601()});
  }

  PGconn* conn_{nullptr};
  bool in_tx_{false};  ///< inside a Tx (guarded by mu_)
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& url, const fs::path& data_dir) {
  return std::make_unique<PgStore>(url, data_dir);
}

}  // namespace plumetrace::server
