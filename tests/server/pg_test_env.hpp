#pragma once
// Test support: the PostgreSQL that scripts/pg-test-cluster.sh started (PLUMETRACE_TEST_PG), one
// fresh schema per test so that tests running at once never see each other's rows.

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

namespace plumetrace::test {

/// PLUMETRACE_TEST_PG, or nullopt when it is unset or empty.
inline std::optional<std::string> test_pg_url() {
  const char* url = std::getenv("PLUMETRACE_TEST_PG");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

/// Whether this run is CI's (CI=true), where a missing PostgreSQL is a failure, not a skip.
inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

/// Create a new schema in the test database and return a store URL whose search_path puts it
/// first (PostGIS stays reachable in public). Returns "" (with `error` set) when it cannot.
inline std::string fresh_pg_schema_url(const std::string& base, std::string& error) {
  static std::atomic<int> counter{0};
  const std::string schema = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                             std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  PGconn* c = PQconnectdb(base.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
    PQfinish(c);
    return "";
  }
  // the schema name is made here from digits, never from outside input
  PGresult* r = PQexec(c, ("CREATE SCHEMA " + schema).c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) error = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) return "";
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema + "%2Cpublic";
}

}  // namespace plumetrace::test

/// In a test body: skip when PLUMETRACE_TEST_PG is unset (local development), fail under CI.
#define PLUMETRACE_REQUIRE_TEST_PG()                                                                    \
  do {                                                                                                  \
    if (!plumetrace::test::test_pg_url()) {                                                             \
      if (plumetrace::test::running_in_ci()) FAIL() << "CI=true but PLUMETRACE_TEST_PG is unset";       \
      GTEST_SKIP() << "PLUMETRACE_TEST_PG is unset (scripts/pg-test-cluster.sh starts a cluster)";      \
    }                                                                                                   \
  } while (0)
