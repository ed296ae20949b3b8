#pragma once
// Test support shared by the server tests: example-101 uploaded as a case, trace jobs submitted
// and waited for, over the real HTTP API of a ServerProcess.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "../support/temp_dir.hpp"
#include "http_client.hpp"

namespace plumetrace::test::cases {

namespace fs = std::filesystem;
using nlohmann::json;
using verb = boost::beast::http::verb;

inline const fs::path kCase = fs::path(PLUMETRACE_TEST_DATA) / "examples/example-101/case";
inline const fs::path kBoundaries = fs::path(PLUMETRACE_SOURCE_DIR) / "data/zhejiang_counties.geojson";
inline const std::string kStart = "2021-07-28T21:00:00+08:00";
inline const std::string kEnd = "2021-07-29T00:00:00+08:00";

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline fs::path fresh_dir(const std::string& name) {
  return testing_support::fresh_temp_dir("plumetrace_server_" + name);
}

/// Upload example-101 as case `name`: its case.json names a boundary file outside the case, so
/// the boundaries are uploaded as boundaries.geojson (the server never follows such a path).
inline void upload_example(int port, const std::string& name) {
  HttpClient c(port);
  for (const char* f : {"case.json", "sources.csv", "stations.csv", "readings.csv", "traces/car_01.csv"}) {
    const HttpResult r = c.request(verb::put, "/api/v1/cases/" + name + "/files/" + f, slurp(kCase / f));
    ASSERT_TRUE(r.status == 201 || r.status == 200) << f << ": " << r.status << " " << r.body;
  }
  const HttpResult r = c.request(verb::put, "/api/v1/cases/" + name + "/files/boundaries.geojson", slurp(kBoundaries));
  ASSERT_EQ(r.status, 201) << r.body;
}

inline json execution_body(const std::string& name) {
  return {{"inputs", {{"case", name}, {"start", kStart}, {"end", kEnd}}}};
}

/// Submit an async trace job; returns its id.
inline std::string submit(int port, const std::string& name) {
  const HttpResult r = http_request(port, verb::post, "/processes/trace/execution", execution_body(name).dump(),
                                    {{"Prefer", "respond-async"}, {"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 201) << r.body;
  const std::string id = json::parse(r.body).at("jobID");
  EXPECT_EQ(r.header("location"), "/jobs/" + id);
  return id;
}

/// Poll /jobs/{id} until it is no longer accepted/running (at most 120 s); returns the last status document.
inline json wait_job(int port, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int last_progress = 0;
  for (;;) {
    const HttpResult r = http_request(port, verb::get, "/jobs/" + id);
    EXPECT_EQ(r.status, 200);
    const json doc = json::parse(r.body);
    EXPECT_EQ(doc.at("jobID"), id);
    EXPECT_GE(doc.at("progress").get<int>(), last_progress);
    last_progress = doc.at("progress").get<int>();
    const std::string s = doc.at("status");
    if ((s != "accepted" && s != "running") || std::chrono::steady_clock::now() > deadline) return doc;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace plumetrace::test::cases
