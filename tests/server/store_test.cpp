// One storage suite, two backends: every behaviour of the Store runs against the embedded SQLite
// store and against PostgreSQL/PostGIS (the cluster scripts/pg-test-cluster.sh starts; skipped
// locally without it, a failure under CI=true).

#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../support/temp_dir.hpp"
#include "pg_test_env.hpp"
#include "plumetrace/server/alerts.hpp"
#include "plumetrace/server/store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace plumetrace::server;

fs::path fresh_dir(const std::string& name) {
  static int n = 0;
  return plumetrace::testing_support::fresh_temp_dir("plumetrace_store_" + name + "_" + std::to_string(n++));
}

struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  static bool available() { return true; }
  static std::string url(std::string&) { return "sqlite"; }
};

struct PostgresBackend {
  static constexpr const char* kName = "postgresql";
  static bool available() { return plumetrace::test::test_pg_url().has_value(); }
  static std::string url(std::string& error) {
    return plumetrace::test::fresh_pg_schema_url(*plumetrace::test::test_pg_url(), error);
  }
};

template <class Backend>
class StoreSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (std::is_same_v<Backend, PostgresBackend>) {
      PLUMETRACE_REQUIRE_TEST_PG();
    }
    std::string error;
    url_ = Backend::url(error);
    ASSERT_FALSE(url_.empty()) << error;
    dir_ = fresh_dir(Backend::kName);
    store_ = open_store(url_, dir_);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  /// Close the store and open it again on the same database and folder (a restart).
  void reopen() {
    store_.reset();
    store_ = open_store(url_, dir_);
  }
  Store& store() { return *store_; }

  std::string url_;
  fs::path dir_;
  std::unique_ptr<Store> store_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(StoreSuite, Backends, BackendNames);

StoredReading reading(const std::string& station, double t, const std::string& var, double value,
                      std::optional<double> period = std::nullopt) {
  return {station, t, var, value, "ug/m3", period};
}

constexpr double kT0 = 1627480800.0;  // 2021-07-28T14:00:00Z

TYPED_TEST(StoreSuite, AppendAndRead) {
  Store& s = this->store();
  const std::vector<StoredReading> rows = {reading("M02", kT0 + 3600, "so2", 66.57, 3600.0),
                                           reading("M01", kT0, "so2", 0.1 + 0.2),  // not a short decimal
                                           reading("M01", kT0 + 0.25, "no2", -1e-300),
                                           reading("M01", kT0 + 3600, "so2", 1e300)};
  EXPECT_EQ(s.append_readings("live", rows), 4u);
  EXPECT_TRUE(s.case_exists("live"));
  const auto all = s.readings("live");
  ASSERT_EQ(all.size(), 4u);
  // ordered by station, variable, time; numbers exactly as given; time to the millisecond
  EXPECT_EQ(all[0].station_id, "M01");
  EXPECT_EQ(all[0].variable, "no2");
  EXPECT_EQ(all[0].time_s, kT0 + 0.25);
  EXPECT_EQ(all[0].value, -1e-300);
  EXPECT_EQ(all[1].value, 0.1 + 0.2);
  EXPECT_FALSE(all[1].period_s.has_value());
  EXPECT_EQ(all[2].value, 1e300);
  EXPECT_EQ(all[3].station_id, "M02");
  EXPECT_EQ(all[3].period_s, 3600.0);
  EXPECT_EQ(all[3].unit, "ug/m3");
  const auto range = s.readings("live", "M01", "so2", kT0, kT0 + 3600);
  ASSERT_EQ(range.size(), 1u);  // [from, to)
  EXPECT_EQ(range[0].time_s, kT0);
  EXPECT_TRUE(s.readings("other", "M01", "so2", kT0, kT0 + 7200).empty());
}

TYPED_TEST(StoreSuite, DuplicateAppendIsStoredOnce) {
  Store& s = this->store();
  std::vector<StoredReading> rows;
  for (int i = 0; i < 2500; ++i) rows.push_back(reading("S" + std::to_string(i % 7), kT0 + 60.0 * i, "so2", i));
  EXPECT_EQ(s.append_readings("dup", rows), 2500u);  // more than one batch of the PostgreSQL backend
  EXPECT_EQ(s.append_readings("dup", rows), 0u);
  rows.push_back(reading("S0", kT0 - 60, "so2", 9));
  rows[0].value = 12345;  // same key, another value: the stored one stays
  EXPECT_EQ(s.append_readings("dup", rows), 1u);
  const auto all = s.readings("dup");
  EXPECT_EQ(all.size(), 2501u);
  const auto first = s.readings("dup", "S0", "so2", kT0, kT0 + 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].value, 0.0);
}

TYPED_TEST(StoreSuite, JobsPersistTheirStates) {
  Store& s = this->store();
  for (const char* id : {"a0000000000000000000000000000001", "a0000000000000000000000000000002",
                         "a0000000000000000000000000000003"}) {
    JobRecord j;
    j.id = id;
    j.process = "trace";
    j.case_name = "c";
    j.message = "queued";
    j.request_json = R"({"case":"c"})";
    j.created = j.updated = now_iso8601();
    s.create_job(j);
  }
  EXPECT_TRUE(s.update_job("a0000000000000000000000000000001", JobStatus::running, 40, "kernels"));
  EXPECT_TRUE(s.finish_job("a0000000000000000000000000000002", JobStatus::dismissed, "dismissed", ""));
  EXPECT_FALSE(s.update_job("a0000000000000000000000000000002", JobStatus::running, 10, "x"));  // dismissed stays
  EXPECT_FALSE(s.finish_job("a0000000000000000000000000000002", JobStatus::successful, "done", "{}"));
  EXPECT_FALSE(s.update_job("nope", JobStatus::running, 10, "x"));
  const auto running = s.job("a0000000000000000000000000000001");
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status, JobStatus::running);
  EXPECT_EQ(running->progress, 40);
  EXPECT_FALSE(running->started.empty());
  const auto list = s.jobs();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, "a0000000000000000000000000000003");  // newest first
  this->reopen();
  const auto again = this->store().requeue_unfinished_jobs();
  EXPECT_EQ(again, (std::vector<std::string>{"a0000000000000000000000000000001", "a0000000000000000000000000000003"}));
  EXPECT_EQ(this->store().job("a0000000000000000000000000000001")->status, JobStatus::accepted);
  EXPECT_EQ(this->store().job("a0000000000000000000000000000002")->status, JobStatus::dismissed);
}

TYPED_TEST(StoreSuite, ResultsPersist) {
  Store& s = this->store();
  JobRecord j;
  j.id = "b0000000000000000000000000000001";
  j.process = "trace";
  j.case_name = "c";
  j.request_json = "{}";
  j.created = j.updated = now_iso8601();
  s.create_job(j);
  const std::string doc = R"({"candidates":[{"id":"S007","probability":0.964,"name":"\u4e2d\u6587 'quoted' $1"}]})";
  EXPECT_TRUE(s.finish_job(j.id, JobStatus::successful, "done", doc));
  this->reopen();
  const auto back = this->store().job(j.id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, JobStatus::successful);
  EXPECT_EQ(back->progress, 100);
  EXPECT_EQ(back->result_json, doc);
  EXPECT_FALSE(back->finished.empty());
  EXPECT_TRUE(this->store().jobs()[0].result_json.empty());  // listings leave the documents out
}

TYPED_TEST(StoreSuite, StationsKeepTheirPositions) {
  Store& s = this->store();
  s.put_stations("st", {{"M02", 120.114635, 28.913128}, {"M01", 120.148456, 28.807119}});
  auto st = s.stations("st");
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].id, "M01");
  EXPECT_DOUBLE_EQ(st[0].lon, 120.148456);
  EXPECT_DOUBLE_EQ(st[0].lat, 28.807119);
  s.put_stations("st", {{"M03", -0.5, 51.25}});  // replaces
  st = s.stations("st");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].id, "M03");
  EXPECT_DOUBLE_EQ(st[0].lon, -0.5);
  EXPECT_TRUE(s.case_exists("st"));
}

TYPED_TEST(StoreSuite, EverythingSurvivesARestart) {
  {
    Store& s = this->store();
    const auto [f, created] = s.put_file("r", "sources.csv", "id,name\nS1,a\n");
    EXPECT_TRUE(created);
    EXPECT_FALSE(s.put_file("r", "sources.csv", "id,name\nS1,b\n").second);  // same path: replaced
    s.put_file("r", "traces/car_01.csv", "t\n");
    EXPECT_EQ(s.append_readings("r", {reading("M01", kT0, "so2", 5)}), 1u);
    s.put_stations("r", {{"M01", 120.1, 28.8}});
    s.put_alert_rules("r", R"({"rules":[]})");
  }
  this->reopen();
  Store& s = this->store();
  const auto files = s.files("r");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "sources.csv");
  EXPECT_EQ(files[0].sha256, sha256_hex("id,name\nS1,b\n"));
  std::ifstream blob(s.blob_path(files[0].sha256), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(blob)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, "id,name\nS1,b\n");
  EXPECT_EQ(s.readings("r").size(), 1u);
  EXPECT_EQ(s.stations("r").size(), 1u);
  EXPECT_EQ(s.alert_rules("r"), std::optional<std::string>(R"({"rules":[]})"));
  EXPECT_FALSE(s.file("r", "nope.csv"));
}

TYPED_TEST(StoreSuite, AlertsAreDeduplicatedPerStationAndPollutant) {
  Store& s = this->store();
  EXPECT_FALSE(s.alert_rules("a"));
  auto alert = [](const std::string& id, const std::string& station, const std::string& pollutant, double t) {
    AlertRecord a;
    a.id = id;
    a.case_name = "a";
    a.station_id = station;
    a.pollutant = pollutant;
    a.time_s = t;
    a.rule = pollutant + " PT1H mean > 40";
    a.value = 66.57;
    a.created = now_iso8601();
    return a;
  };
  EXPECT_TRUE(s.record_alert(alert("c1", "M02", "so2", kT0), kAlertDedupeS));
  EXPECT_FALSE(s.record_alert(alert("c2", "M02", "so2", kT0 + kAlertDedupeS - 1), kAlertDedupeS));
  EXPECT_FALSE(s.record_alert(alert("c3", "M02", "so2", kT0 - 3600), kAlertDedupeS));
  EXPECT_TRUE(s.record_alert(alert("c4", "M02", "no2", kT0), kAlertDedupeS));  // another pollutant
  EXPECT_TRUE(s.record_alert(alert("c5", "M04", "so2", kT0), kAlertDedupeS));  // another station
  EXPECT_TRUE(s.record_alert(alert("c6", "M02", "so2", kT0 + kAlertDedupeS), kAlertDedupeS));
  s.set_alert_job("c1", "f0000000000000000000000000000001");
  this->reopen();
  const auto list = this->store().alerts("a");
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].id, "c6");  // newest first
  const auto c1 = std::find_if(list.begin(), list.end(), [](const AlertRecord& a) { return a.id == "c1"; });
  ASSERT_NE(c1, list.end());
  EXPECT_EQ(c1->job, "f0000000000000000000000000000001");
  EXPECT_EQ(c1->value, 66.57);
  EXPECT_EQ(c1->time_s, kT0);
  EXPECT_EQ(this->store().alerts("").size(), 4u);
  EXPECT_TRUE(this->store().alerts("other").empty());
}

/// A database made by the first release of the service (no stations, alerts or schema version)
/// opens, keeps its rows and gains the new tables.
TEST(SqliteStore, MigratesADatabaseOfTheFirstRelease) {
  const fs::path dir = fresh_dir("migrate");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "plumetrace.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, R"sql(
CREATE TABLE cases(name TEXT PRIMARY KEY, created TEXT NOT NULL);
CREATE TABLE files(case_name TEXT NOT NULL REFERENCES cases(name), path TEXT NOT NULL, sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL, updated TEXT NOT NULL, PRIMARY KEY(case_name, path));
CREATE TABLE readings(case_name TEXT NOT NULL, station_id TEXT NOT NULL, time_ms INTEGER NOT NULL, variable TEXT NOT NULL,
  value REAL NOT NULL, unit TEXT NOT NULL, period_s REAL, PRIMARY KEY(case_name, station_id, variable, time_ms)) WITHOUT ROWID;
CREATE TABLE jobs(id TEXT PRIMARY KEY, seq INTEGER NOT NULL, process TEXT NOT NULL, case_name TEXT NOT NULL,
  status TEXT NOT NULL, progress INTEGER NOT NULL, message TEXT NOT NULL, request TEXT NOT NULL,
  result TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, started TEXT NOT NULL DEFAULT '',
  finished TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL);
INSERT INTO cases VALUES('old', '2026-01-01T00:00:00Z');
INSERT INTO readings VALUES('old', 'M01', 1627480800000, 'so2', 5.5, 'ug/m3', NULL);
)sql", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  {
    auto s = open_store("sqlite", dir);
    ASSERT_EQ(s->readings("old").size(), 1u);
    EXPECT_EQ(s->readings("old")[0].value, 5.5);
    s->put_stations("old", {{"M01", 120.148456, 28.807119}});
    EXPECT_DOUBLE_EQ(s->stations("old").at(0).lat, 28.807119);
  }
  auto s = open_store("sqlite", dir);  // opening a current database again changes nothing
  EXPECT_EQ(s->stations("old").size(), 1u);
  fs::remove_all(dir);
}

TEST(PostgresStore, RefusesAnUnreachableDatabaseWithoutLeakingPaths) {
  const fs::path dir = fresh_dir("unreachable");
  try {
    (void)open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", dir);
    FAIL() << "opened an unreachable database";
  } catch (const plumetrace::Unavailable& e) {
    EXPECT_EQ(std::string(e.what()).find(dir.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)open_store("mysql://x", dir), plumetrace::InvalidInput);
  fs::remove_all(dir);
}

}  // namespace
