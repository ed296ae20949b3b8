// The embedded store: SQLite (WAL, synchronous=FULL); blob files are StoreBase's.

#include <sqlite3.h>

#include <cmath>
#include <mutex>

#include "plumetrace/core/error.hpp"
#include "store_backends.hpp"

namespace plumetrace::server {

namespace {

namespace fs = std::filesystem;

/// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw Internal(std::string("store: cannot prepare a statement: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  /// Step once: true when a row is available.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Unavailable(std::string("store: ") + sqlite3_errmsg(db_));
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  [[nodiscard]] std::string text(int i) const {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, i)))
             : std::string();
  }
  [[nodiscard]] std::int64_t int64(int i) const { return sqlite3_column_int64(s_, i); }
  [[nodiscard]] double real(int i) const { return sqlite3_column_double(s_, i); }
  [[nodiscard]] bool is_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_{nullptr};
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS cases(name TEXT PRIMARY KEY, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
  case_name TEXT NOT NULL REFERENCES cases(name), path TEXT NOT NULL, sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL, updated TEXT NOT NULL, PRIMARY KEY(case_name, path));
CREATE TABLE IF NOT EXISTS readings(
  case_name TEXT NOT NULL, station_id TEXT NOT NULL, time_ms INTEGER NOT NULL, variable TEXT NOT NULL,
  value REAL NOT NULL, unit TEXT NOT NULL, period_s REAL,
  PRIMARY KEY(case_name, station_id, variable, time_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs(
  id TEXT PRIMARY KEY, seq INTEGER NOT NULL, process TEXT NOT NULL, case_name TEXT NOT NULL,
  status TEXT NOT NULL, progress INTEGER NOT NULL, message TEXT NOT NULL, request TEXT NOT NULL,
  result TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, started TEXT NOT NULL DEFAULT '',
  finished TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL);
)sql";

/// Schema migrations, by PRAGMA user_version: kMigrations[i] takes a database from version i to
/// i + 1 (version 0 is the schema above, as the first release of the service created it).
constexpr const char* kMigrations[] = {
    // 1: stations with their positions; alert rules and alerts
    R"sql(
CREATE TABLE IF NOT EXISTS stations(
  case_name TEXT NOT NULL REFERENCES cases(name), station_id TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
  PRIMARY KEY(case_name, station_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_rules(
  case_name TEXT PRIMARY KEY REFERENCES cases(name), rules TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts(
  id TEXT PRIMARY KEY, case_name TEXT NOT NULL, station_id TEXT NOT NULL, pollutant TEXT NOT NULL,
  time_ms INTEGER NOT NULL, rule TEXT NOT NULL, value REAL NOT NULL, job TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_by_key ON alerts(case_name, station_id, pollutant, time_ms);
)sql",
};

class SqliteStore final : public StoreBase {
 public:
  explicit SqliteStore(const fs::path& data_dir) : StoreBase(data_dir) {
    const fs::path db = data_dir / "plumetrace.sqlite";
    if (sqlite3_open_v2(db.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      sqlite3_close(db_);
      throw Unavailable("cannot open the store's database");
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
    exec(kSchema);
    migrate();
  }
  ~SqliteStore() override { sqlite3_close(db_); }

  bool put_file_row(const std::string& case_name, const StoredFile& f) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    Stmt q(db_, "SELECT 1 FROM files WHERE case_name=?1 AND path=?2");
    q.bind(1, case_name).bind(2, f.path);
    const bool existed = q.step();
    Stmt s(db_,
           "INSERT INTO files(case_name,path,sha256,bytes,updated) VALUES(?1,?2,?3,?4,?5) "
           "ON CONFLICT(case_name,path) DO UPDATE SET sha256=excluded.sha256, bytes=excluded.bytes, "
           "updated=excluded.updated");
    s.bind(1, case_name).bind(2, f.path).bind(3, f.sha256).bind(4, static_cast<std::int64_t>(f.bytes)).bind(5, now_iso8601());
    s.step();
    tx.commit();
    return !existed;
  }

  std::optional<StoredFile> file(const std::string& case_name, const std::string& path) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT sha256, bytes FROM files WHERE case_name=?1 AND path=?2");
    s.bind(1, case_name).bind(2, path);
    if (!s.step()) return std::nullopt;
    return StoredFile{path, s.text(0), static_cast<std::uint64_t>(s.int64(1))};
  }

  std::vector<StoredFile> files(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT path, sha256, bytes FROM files WHERE case_name=?1 ORDER BY path");
    s.bind(1, case_name);
    std::vector<StoredFile> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), static_cast<std::uint64_t>(s.int64(2))});
    return out;
  }

  bool case_exists(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT 1 FROM cases WHERE name=?1");
    s.bind(1, case_name);
    return s.step();
  }

  std::size_t append_readings(const std::string& case_name, const std::vector<StoredReading>& rows) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    Stmt s(db_,
           "INSERT OR IGNORE INTO readings(case_name,station_id,time_ms,variable,value,unit,period_s) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7)");
    std::size_t added = 0;
    for (const StoredReading& r : rows) {
      s.bind(1, case_name).bind(2, r.station_id).bind(3, to_time_ms(r.time_s));
      s.bind(4, r.variable).bind(5, r.value).bind(6, r.unit);
      if (r.period_s) s.bind(7, *r.period_s);
      else s.bind_null(7);
      s.step();
      added += static_cast<std::size_t>(sqlite3_changes(db_));
      s.reset();
    }
    tx.commit();
    return added;
  }

  std::vector<StoredReading> readings(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT station_id, time_ms, variable, value, unit, period_s FROM readings WHERE case_name=?1 "
           "ORDER BY station_id, variable, time_ms");
    s.bind(1, case_name);
    return reading_rows(s);
  }

  std::vector<StoredReading> readings(const std::string& case_name, const std::string& station_id,
                                      const std::string& variable, EpochSeconds from_s, EpochSeconds to_s) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT station_id, time_ms, variable, value, unit, period_s FROM readings WHERE case_name=?1 "
           "AND station_id=?2 AND variable=?3 AND time_ms>=?4 AND time_ms<?5 ORDER BY time_ms");
    s.bind(1, case_name).bind(2, station_id).bind(3, variable).bind(4, to_time_ms(from_s)).bind(5, to_time_ms(to_s));
    return reading_rows(s);
  }

  void put_stations(const std::string& case_name, const std::vector<StoredStation>& stations) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    Stmt d(db_, "DELETE FROM stations WHERE case_name=?1");
    d.bind(1, case_name);
    d.step();
    Stmt s(db_, "INSERT OR REPLACE INTO stations(case_name,station_id,lon,lat) VALUES(?1,?2,?3,?4)");
    for (const StoredStation& st : stations) {
      s.bind(1, case_name).bind(2, st.id).bind(3, st.lon).bind(4, st.lat);
      s.step();
      s.reset();
    }
    tx.commit();
  }

  std::vector<StoredStation> stations(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT station_id, lon, lat FROM stations WHERE case_name=?1 ORDER BY station_id");
    s.bind(1, case_name);
    std::vector<StoredStation> out;
    while (s.step()) out.push_back({s.text(0), s.real(1), s.real(2)});
    return out;
  }

  void put_alert_rules(const std::string& case_name, const std::string& rules_json) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    ensure_case(case_name);
    Stmt s(db_,
           "INSERT INTO alert_rules(case_name,rules,updated) VALUES(?1,?2,?3) "
           "ON CONFLICT(case_name) DO UPDATE SET rules=excluded.rules, updated=excluded.updated");
    s.bind(1, case_name).bind(2, rules_json).bind(3, now_iso8601());
    s.step();
    tx.commit();
  }

  std::optional<std::string> alert_rules(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT rules FROM alert_rules WHERE case_name=?1");
    s.bind(1, case_name);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  bool record_alert(const AlertRecord& a, double dedupe_s) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);  // BEGIN IMMEDIATE: the check and the insert under one write lock
    const std::int64_t t = to_time_ms(a.time_s), window = to_time_ms(dedupe_s);
    Stmt q(db_,
           "SELECT 1 FROM alerts WHERE case_name=?1 AND station_id=?2 AND pollutant=?3 "
           "AND time_ms>?4 AND time_ms<?5 LIMIT 1");
    q.bind(1, a.case_name).bind(2, a.station_id).bind(3, a.pollutant).bind(4, t - window).bind(5, t + window);
    if (q.step()) return false;
    Stmt s(db_,
           "INSERT INTO alerts(id,case_name,station_id,pollutant,time_ms,rule,value,job,created) "
           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
    s.bind(1, a.id).bind(2, a.case_name).bind(3, a.station_id).bind(4, a.pollutant).bind(5, t).bind(6, a.rule);
    s.bind(7, a.value).bind(8, a.job).bind(9, a.created);
    s.step();
    tx.commit();
    return true;
  }

  void set_alert_job(const std::string& alert_id, const std::string& job_id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "UPDATE alerts SET job=?2 WHERE id=?1");
    s.bind(1, alert_id).bind(2, job_id);
    s.step();
  }

  std::vector<AlertRecord> alerts(const std::string& case_name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT id, case_name, station_id, pollutant, time_ms, rule, value, job, created FROM alerts "
           "WHERE ?1='' OR case_name=?1 ORDER BY time_ms DESC, created DESC, id");
    s.bind(1, case_name);
    std::vector<AlertRecord> out;
    while (s.step())
      out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), static_cast<double>(s.int64(4)) / 1000.0, s.text(5),
                     s.real(6), s.text(7), s.text(8)});
    return out;
  }

  void create_job(const JobRecord& j) override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    Stmt s(db_,
           "INSERT INTO jobs(id,seq,process,case_name,status,progress,message,request,created,updated) "
           "VALUES(?1,(SELECT COALESCE(MAX(seq),0)+1 FROM jobs),?2,?3,?4,?5,?6,?7,?8,?8)");
    s.bind(1, j.id).bind(2, j.process).bind(3, j.case_name).bind(4, std::string(to_string(j.status)));
    s.bind(5, static_cast<std::int64_t>(j.progress)).bind(6, j.message).bind(7, j.request_json).bind(8, j.created);
    s.step();
    tx.commit();
  }

  bool update_job(const std::string& id, JobStatus status, int progress, const std::string& message) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "UPDATE jobs SET status=?2, progress=?3, message=?4, updated=?5, "
           "started=CASE WHEN started='' AND ?2='running' THEN ?5 ELSE started END "
           "WHERE id=?1 AND status NOT IN ('dismissed','successful','failed')");
    s.bind(1, id).bind(2, std::string(to_string(status))).bind(3, static_cast<std::int64_t>(progress));
    s.bind(4, message).bind(5, now_iso8601());
    s.step();
    return sqlite3_changes(db_) > 0;
  }

  bool finish_job(const std::string& id, JobStatus status, const std::string& message,
                  const std::string& result_json) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "UPDATE jobs SET status=?2, progress=CASE WHEN ?2='successful' THEN 100 ELSE progress END, "
           "message=?3, result=?4, finished=?5, updated=?5 WHERE id=?1 AND status<>'dismissed'");
    s.bind(1, id).bind(2, std::string(to_string(status))).bind(3, message).bind(4, result_json).bind(5, now_iso8601());
    s.step();
    return sqlite3_changes(db_) > 0;
  }

  std::optional<JobRecord> job(const std::string& id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, (std::string(kJobColumns) + ", result FROM jobs WHERE id=?1").c_str());
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    JobRecord j = job_from(s);
    j.result_json = s.text(11);
    return j;
  }

  std::vector<JobRecord> jobs() override {
    std::lock_guard lock(mu_);
    Stmt s(db_, (std::string(kJobColumns) + " FROM jobs ORDER BY seq DESC").c_str());
    std::vector<JobRecord> out;
    while (s.step()) out.push_back(job_from(s));
    return out;
  }

  std::vector<std::string> requeue_unfinished_jobs() override {
    std::lock_guard lock(mu_);
    Tx tx(*this);
    Stmt s(db_, "SELECT id FROM jobs WHERE status IN ('accepted','running') ORDER BY seq");
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    Stmt u(db_, "UPDATE jobs SET status='accepted', progress=0, message='queued again after a restart', updated=?1 "
                "WHERE status IN ('accepted','running')");
    u.bind(1, now_iso8601());
    u.step();
    tx.commit();
    return out;
  }

 private:
  static constexpr const char* kJobColumns =
      "SELECT id, process, case_name, status, progress, message, request, created, started, finished, updated";

  /// The rows of a SELECT station_id, time_ms, variable, value, unit, period_s.
  static std::vector<StoredReading> reading_rows(Stmt& s) {
    std::vector<StoredReading> out;
    while (s.step()) {
      StoredReading r{s.text(0), static_cast<double>(s.int64(1)) / 1000.0, s.text(2), s.real(3), s.text(4), std::nullopt};
      if (!s.is_null(5)) r.period_s = s.real(5);
      out.push_back(std::move(r));
    }
    return out;
  }

  static JobRecord job_from(const Stmt& s) {
    JobRecord j;
    j.id = s.text(0);
    j.process = s.text(1);
    j.case_name = s.text(2);
    j.status = job_status_from(s.text(3)).value_or(JobStatus::failed);
    j.progress = static_cast<int>(s.int64(4));
    j.message = s.text(5);
    j.request_json = s.text(6);
    j.created = s.text(7);
    j.started = s.text(8);
    j.finished = s.text(9);
    j.updated = s.text(10);
    return j;
  }

  /// A write transaction (BEGIN IMMEDIATE), rolled back unless commit() ran. Caller holds mu_.
  class Tx {
   public:
    explicit Tx(SqliteStore& st) : st_(st) { st_.exec("BEGIN IMMEDIATE"); }
    void commit() {
      st_.exec("COMMIT");
      done_ = true;
    }
    ~Tx() {
      if (!done_) sqlite3_exec(st_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;

   private:
    SqliteStore& st_;
    bool done_{false};
  };

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw Unavailable("store: " + msg);
    }
  }

  /// Bring an older database up to the current schema, one version per transaction.
  void migrate() {
    for (;;) {
      std::lock_guard lock(mu_);
      Tx tx(*this);
      std::size_t version = 0;
      {
        Stmt v(db_, "PRAGMA user_version");
        v.step();
        version = static_cast<std::size_t>(v.int64(0));
      }
      if (version >= std::size(kMigrations)) return;
      exec(kMigrations[version]);
      exec(("PRAGMA user_version=" + std::to_string(version + 1)).c_str());
      tx.commit();
    }
  }

  void ensure_case(const std::string& name) {
    Stmt s(db_, "INSERT OR IGNORE INTO cases(name, created) VALUES(?1, ?2)");
    s.bind(1, name).bind(2, now_iso8601());
    s.step();
  }

  sqlite3* db_{nullptr};
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const fs::path& data_dir) { return std::make_unique<SqliteStore>(data_dir); }

}  // namespace plumetrace::server
