// plumetrace serve, end to end: the real binary on an ephemeral port, a real HTTP client.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <nlohmann/json.hpp>

#include "case_helpers.hpp"
#include "http_client.hpp"
#include "plumetrace/audit/log.hpp"
#include "plumetrace/audit/sha256.hpp"
#include "plumetrace/pipeline/audited_jobs.hpp"
#include "pg_test_env.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using plumetrace::test::HttpClient;
using plumetrace::test::http_request;
using plumetrace::test::HttpResult;
using plumetrace::test::ServerProcess;
using plumetrace::test::store_args;
using namespace plumetrace::test::cases;
using verb = boost::beast::http::verb;

/// The CLI's ranking on the same files.
json cli_ranking() {
  const fs::path out = fresh_dir("cli") / "ranking.json";
  const std::string cmd = std::string("'") + PLUMETRACE_BINARY + "' trace '" + kCase.string() + "' --start " + kStart +
                          " --end " + kEnd + " --json > '" + out.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return json::parse(slurp(out));
}

/// Same candidates (ids, order) and probabilities to 1e-9, same unlisted, no-release and window.
void expect_same_ranking(const json& a, const json& b) {
  ASSERT_EQ(a.at("candidates").size(), b.at("candidates").size());
  for (std::size_t i = 0; i < a["candidates"].size(); ++i) {
    const json& x = a["candidates"][i];
    const json& y = b["candidates"][i];
    EXPECT_EQ(x.at("id"), y.at("id"));
    EXPECT_NEAR(x.at("probability").get<double>(), y.at("probability").get<double>(), 1e-9) << x.at("id");
    EXPECT_EQ(x.at("emission_rate_g_s"), y.at("emission_rate_g_s"));
    EXPECT_EQ(x.at("jurisdiction"), y.at("jurisdiction"));
  }
  EXPECT_NEAR(a["unlisted"]["probability"].get<double>(), b["unlisted"]["probability"].get<double>(), 1e-9);
  EXPECT_NEAR(a["no_release"]["probability"].get<double>(), b["no_release"]["probability"].get<double>(), 1e-9);
  EXPECT_EQ(a.at("window"), b.at("window"));
  EXPECT_EQ(a.at("jurisdictions"), b.at("jurisdictions"));
}

void expect_problem(const HttpResult& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  const json p = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(p.is_object()) << r.body;
  EXPECT_EQ(p.value("status", 0), status);
  EXPECT_EQ(r.body.find("/tmp"), std::string::npos) << "leaks a server path: " << r.body;
  EXPECT_EQ(r.body.find(PLUMETRACE_SOURCE_DIR), std::string::npos) << r.body;
}

TEST(Server, HealthAndProcesses) {
  ServerProcess srv(fresh_dir("health"));
  const HttpResult h = http_request(srv.port(), verb::get, "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body).at("status"), "ok");
  const json ps = json::parse(http_request(srv.port(), verb::get, "/processes").body);
  EXPECT_EQ(ps.at("processes").at(0).at("id"), "trace");
  EXPECT_EQ(ps.at("processes").at(1).at("id"), "plan");
  EXPECT_TRUE(json::parse(http_request(srv.port(), verb::get, "/processes/plan").body).at("inputs").contains("job"));
  const json p = json::parse(http_request(srv.port(), verb::get, "/processes/trace").body);
  EXPECT_TRUE(p.at("inputs").contains("case"));
  EXPECT_TRUE(json::parse(http_request(srv.port(), verb::get, "/jobs").body).at("jobs").empty());
}

TEST(Server, TraceJobEqualsCliAndServesTiles) {
  ServerProcess srv(fresh_dir("trace"));
  const int port = srv.port();
  upload_example(port, "ex101");
  const std::string id = submit(port, "ex101");
  const json done = wait_job(port, id);
  ASSERT_EQ(done.at("status"), "successful") << done.dump();
  EXPECT_EQ(done.at("progress"), 100);
  const HttpResult res = http_request(port, verb::get, "/jobs/" + id + "/results");
  ASSERT_EQ(res.status, 200);
  const json http_doc = json::parse(res.body);
  const json cli_doc = cli_ranking();
  expect_same_ranking(http_doc, cli_doc);
  {
    // the job left its audit record, alike the CLI's: origin, case and job, inputs, result hash
    const char* log = std::getenv("PLUMETRACE_AUDIT_LOG");
    ASSERT_NE(log, nullptr);
    json mine;
    for (const json& r : plumetrace::audit::read_records(log))
      if (r.value("job", "") == id) mine = r;
    ASSERT_TRUE(mine.is_object()) << "no audit record for job " << id;
    EXPECT_EQ(mine["command"], "trace");
    EXPECT_EQ(mine["origin"], "serve");
    EXPECT_EQ(mine["case"], "ex101");
    EXPECT_EQ(mine["parameters"]["start"], kStart);
    EXPECT_EQ(mine["inputs"].size(), 6u);  // the five case files and boundaries.geojson
    plumetrace::TraceResult tr;
    tr.ranking = http_doc;
    EXPECT_EQ(mine["result_sha256"], plumetrace::pipeline::trace_result_sha256(tr));
    EXPECT_TRUE(plumetrace::audit::verify(log).ok());
  }

  // synchronous execution: 200 with the ranking
  const HttpResult sync = http_request(port, verb::post, "/processes/trace/execution", execution_body("ex101").dump(),
                                       {{"Content-Type", "application/json"}});
  ASSERT_EQ(sync.status, 200) << sync.body;
  expect_same_ranking(json::parse(sync.body), cli_doc);

  // layers and tiles
  const json layers = json::parse(http_request(port, verb::get, "/api/v1/cases/ex101/layers").body);
  std::set<std::string> ids;
  for (const json& l : layers.at("layers")) ids.insert(l.at("id"));
  EXPECT_TRUE(ids.count(id + ":posterior") && ids.count(id + ":fused") && ids.count("boundaries"));
  const std::string base = "/tiles/ex101/" + id + ":posterior";
  const HttpResult tj = http_request(port, verb::get, base + "/tilejson.json?colormap_name=magma");
  ASSERT_EQ(tj.status, 200) << tj.body;
  const json tilejson = json::parse(tj.body);
  EXPECT_EQ(tilejson.at("tilejson"), "3.0.0");
  EXPECT_NE(tilejson.at("tiles").at(0).get<std::string>().find("colormap_name=magma"), std::string::npos);
  // the tile under the centre at minzoom
  const double lon = tilejson["center"][0], lat = tilejson["center"][1];
  const int z = tilejson["minzoom"];
  const double n = std::ldexp(1.0, z);
  const int x = static_cast<int>((lon + 180.0) / 360.0 * n);
  const double lr = lat * M_PI / 180.0;
  const int y = static_cast<int>((1.0 - std::log(std::tan(lr) + 1.0 / std::cos(lr)) / M_PI) / 2.0 * n);
  const std::string tile = base + "/" + std::to_string(z) + "/" + std::to_string(x) + "/" + std::to_string(y) + ".png";
  HttpClient c(port);
  const HttpResult t1 = c.request(verb::get, tile);
  ASSERT_EQ(t1.status, 200) << t1.body;
  EXPECT_EQ(t1.header("content-type"), "image/png");
  EXPECT_EQ(t1.body.substr(1, 3), "PNG");
  const std::string etag = t1.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');  // strong
  EXPECT_FALSE(t1.header("cache-control").empty());
  const HttpResult t2 = c.request(verb::get, tile, {}, {{"If-None-Match", etag}});
  EXPECT_EQ(t2.status, 304);
  EXPECT_TRUE(t2.body.empty());
  EXPECT_EQ(t2.header("etag"), etag);
  const HttpResult t3 = c.request(verb::head, tile);
  EXPECT_EQ(t3.status, 200);
  EXPECT_EQ(t3.header("content-length"), std::to_string(t1.body.size()));
  EXPECT_EQ(t3.header("etag"), etag);
  const HttpResult t4 = c.request(verb::get, tile, {}, {{"If-None-Match", "\"0000000000000000\""}});
  EXPECT_EQ(t4.status, 200);

  // dismiss: the job and its layers go
  const HttpResult del = http_request(port, verb::delete_, "/jobs/" + id);
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(json::parse(del.body).at("status"), "dismissed");
  expect_problem(http_request(port, verb::get, "/jobs/" + id + "/results"), 404);
  expect_problem(http_request(port, verb::get, tile), 404);
}

TEST(Server, ReadingsAppendedTwiceAreStoredOnce) {
  ServerProcess srv(fresh_dir("readings"));
  const int port = srv.port();
  ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/live/files/stations.csv", slurp(kCase / "stations.csv")).status, 201);
  const std::string body =
      "station_id,time,variable,value,unit\n"
      "M01,2021-07-28T18:00:00+08:00,so2,6.17,ug/m3\n"
      "M01,2021-07-28T19:00:00+08:00,so2,0.1,ug/m3\n"
      "M02,2021-07-28T18:00:00+08:00,so2,7.25,ug/m3\n"
      "NOPE,2021-07-28T18:00:00+08:00,so2,7,ug/m3\n"
      "M02,yesterday,so2,7,ug/m3\n";
  for (int round = 0; round < 2; ++round) {
    const HttpResult r = http_request(port, verb::post, "/api/v1/cases/live/readings", body, {{"Content-Type", "text/csv"}});
    ASSERT_EQ(r.status, 200) << r.body;
    const json rep = json::parse(r.body);
    EXPECT_EQ(rep.at("valid"), 3);
    EXPECT_EQ(rep.at("added"), round == 0 ? 3 : 0);
    ASSERT_EQ(rep.at("rejected").size(), 2u);
    EXPECT_EQ(rep["rejected"][0].at("line"), 5);
    EXPECT_EQ(rep["rejected"][1].at("line"), 6);
  }
  const HttpResult csv = http_request(port, verb::get, "/api/v1/cases/live/files/readings.csv");
  ASSERT_EQ(csv.status, 200);
  std::istringstream lines(csv.body);
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(lines, line))
    if (!line.empty()) rows.push_back(line);
  ASSERT_EQ(rows.size(), 4u) << csv.body;  // header + 3 readings
  EXPECT_EQ(rows[0], "station_id,time,variable,value,unit,period");
  EXPECT_EQ(rows[1], "M01,2021-07-28T10:00:00Z,so2,6.17,ug/m3,");
  // a body that is not readings.csv at all
  expect_problem(http_request(port, verb::post, "/api/v1/cases/live/readings", "a,b\n1,2\n"), 400);
}

TEST(Server, ErrorsAreProblemJson) {
  ServerProcess srv(fresh_dir("errors"));
  const int port = srv.port();
  expect_problem(http_request(port, verb::get, "/no/such/thing"), 404);
  expect_problem(http_request(port, verb::get, "/jobs/0123456789abcdef0123456789abcdef"), 404);
  expect_problem(http_request(port, verb::get, "/api/v1/cases/none/files/sources.csv"), 404);
  expect_problem(http_request(port, verb::put, "/api/v1/cases/x/files/secret.txt", "x"), 400);
  expect_problem(http_request(port, verb::put, "/api/v1/cases/x/files/traces/..%2F..%2Fescape.csv", "x"), 400);
  expect_problem(http_request(port, verb::put, "/api/v1/cases/bad%20name/files/sources.csv", "x"), 400);
  expect_problem(http_request(port, verb::post, "/processes/trace/execution", "{not json"), 400);
  expect_problem(http_request(port, verb::post, "/processes/trace/execution", R"({"inputs":{"case":"none"}})"), 404);
  expect_problem(http_request(port, verb::post, "/processes/trace/execution",
                              R"({"inputs":{"case":"x","start":"not a time"}})"), 400);
  expect_problem(http_request(port, verb::post, "/processes/trace/execution",
                              R"({"inputs":{"case":"x","usual_emissions":"sometimes"}})"), 400);
  expect_problem(http_request(port, verb::delete_, "/health"), 405);
  expect_problem(http_request(port, verb::post, "/processes/trace/execution", std::string(100 * 1024, ' ')), 413);
  expect_problem(http_request(port, verb::get, "/tiles/x/imagery/none/0/0/0.png"), 404);
  expect_problem(http_request(port, verb::get, "/tiles/x/imagery/none/3/9/0.png"), 400);
  expect_problem(http_request(port, verb::get, "/health", {}, {{"X-Filler", std::string(9000, 'a')}}), 431);
  // a case whose trace fails: 422 synchronously, "failed" asynchronously, no server path in the detail
  ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/empty/files/stations.csv", slurp(kCase / "stations.csv")).status, 201);
  expect_problem(http_request(port, verb::post, "/processes/trace/execution", R"({"inputs":{"case":"empty","pollutant":"so2"}})"), 422);
  // the server still answers
  EXPECT_EQ(http_request(port, verb::get, "/health").status, 200);
}

TEST(Server, AcknowledgedReadingsAndJobsSurviveSigkill) {
  const fs::path data = fresh_dir("restart");
  std::vector<std::string> acknowledged;  // "station,time-hour" of every acknowledged row
  std::string finished_job, queued_job;
  {
    ServerProcess srv(data);
    const int port = srv.port();
    upload_example(port, "live");
    finished_job = submit(port, "live");
    ASSERT_EQ(wait_job(port, finished_job).at("status"), "successful");
    queued_job = submit(port, "live");  // accepted or running when the server dies
    std::atomic<bool> stop{false};
    std::thread streamer([&] {
      try {
        HttpClient c(port);
        for (int i = 0; !stop; ++i) {
          const std::string hour = std::to_string(1000 + i);
          // one reading per request, each at its own time: day offset i hours
          const int d = i / 24, h = i % 24;
          char t[40];
          std::snprintf(t, sizeof t, "2022-%02d-%02dT%02d:00:00Z", 1 + d / 28, 1 + d % 28, h);
          const std::string body = "station_id,time,variable,value,unit\nM01," + std::string(t) + ",no2," + hour + ",ug/m3\n";
          const HttpResult r = c.request(verb::post, "/api/v1/cases/live/readings", body);
          if (r.status != 200) break;
          acknowledged.push_back(std::string(t));
        }
      } catch (const std::exception&) {
        // the server died mid-stream
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    srv.kill(SIGKILL);
    stop = true;
    streamer.join();
  }
  ASSERT_GT(acknowledged.size(), 5u);
  ServerProcess again(data);
  const int port = again.port();
  const HttpResult csv = http_request(port, verb::get, "/api/v1/cases/live/files/readings.csv");
  ASSERT_EQ(csv.status, 200);
  for (const std::string& t : acknowledged)
    EXPECT_NE(csv.body.find("M01," + t + ",no2,"), std::string::npos) << "lost acknowledged reading at " << t;
  // the finished job kept its results; the interrupted one ran after the restart
  const HttpResult r = http_request(port, verb::get, "/jobs/" + finished_job + "/results");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(wait_job(port, queued_job).at("status"), "successful");
}

/// Every reading the server acknowledged is there after a SIGKILL in the middle of a stream of
/// appends, on both backends (PostgreSQL: the cluster of scripts/pg-test-cluster.sh).
class ServerOnBackend : public ::testing::TestWithParam<std::string> {
 protected:
  /// The store URL of this test: "" (embedded SQLite) or a fresh PostgreSQL schema.
  void SetUp() override {
    if (GetParam() != "postgresql") return;
    PLUMETRACE_REQUIRE_TEST_PG();
    std::string error;
    url_ = plumetrace::test::fresh_pg_schema_url(*plumetrace::test::test_pg_url(), error);
    ASSERT_FALSE(url_.empty()) << error;
  }
  std::string url_;
};

TEST_P(ServerOnBackend, EveryAcknowledgedReadingSurvivesSigkill) {
  const std::string& url = url_;
  const fs::path data = fresh_dir("sigkill_" + GetParam());
  std::vector<std::string> acknowledged;  // "M0x,TIME,no2,VALUE" of every acknowledged row
  {
    ServerProcess srv(data, store_args(url));
    const int port = srv.port();
    ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/live/files/stations.csv", slurp(kCase / "stations.csv")).status, 201);
    std::atomic<bool> stop{false};
    std::thread streamer([&] {
      try {
        HttpClient c(port);
        for (int i = 0; !stop; ++i) {
          // 10 rows per request: two stations, 5 minutes each, request i covers its own 25 minutes
          std::string body = "station_id,time,variable,value,unit\n";
          std::vector<std::string> rows;
          for (int k = 0; k < 10; ++k) {
            const int minute = (i * 5 + k / 2) * 5;
            char t[40];
            std::snprintf(t, sizeof t, "2022-01-%02dT%02d:%02d:00Z", 1 + minute / 1440, minute / 60 % 24, minute % 60);
            const std::string row = std::string(k % 2 ? "M02," : "M01,") + t + ",no2," + std::to_string(i * 10 + k);
            rows.push_back(row);
            body += row + ",ug/m3\n";
          }
          const HttpResult r = c.request(verb::post, "/api/v1/cases/live/readings", body);
          if (r.status != 200) break;
          acknowledged.insert(acknowledged.end(), rows.begin(), rows.end());
        }
      } catch (const std::exception&) {
        // the server died mid-stream
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    srv.kill(SIGKILL);
    stop = true;
    streamer.join();
  }
  ASSERT_GT(acknowledged.size(), 50u);
  ServerProcess again(data, store_args(url));
  const HttpResult csv = http_request(again.port(), verb::get, "/api/v1/cases/live/files/readings.csv");
  ASSERT_EQ(csv.status, 200);
  std::size_t lost = 0;
  for (const std::string& row : acknowledged)
    if (csv.body.find(row + ",ug/m3,") == std::string::npos) ++lost;
  std::printf("%s: %zu readings acknowledged before SIGKILL, %zu lost\n", GetParam().c_str(), acknowledged.size(), lost);
  EXPECT_EQ(lost, 0u);
}

/// Live early warning: rules over HTTP, readings that cross a threshold raise one alert, which
/// starts a trace job whose ranking can be read.
TEST(Server, ThresholdAlertStartsATraceJob) {
  ServerProcess srv(fresh_dir("alerts"));
  const int port = srv.port();
  HttpClient c(port);
  for (const char* f : {"case.json", "sources.csv", "stations.csv", "traces/car_01.csv"})
    ASSERT_EQ(c.request(verb::put, std::string("/api/v1/cases/warn/files/") + f, slurp(kCase / f)).status, 201) << f;
  ASSERT_EQ(c.request(verb::put, "/api/v1/cases/warn/files/boundaries.geojson", slurp(kBoundaries)).status, 201);
  expect_problem(http_request(port, verb::get, "/api/v1/cases/warn/alert-rules"), 404);
  // bad rules: 400 naming the field
  const HttpResult bad = http_request(port, verb::put, "/api/v1/cases/warn/alert-rules",
                                      R"({"rules": [{"pollutant": "so2", "period": "an hour", "threshold": 40}]})");
  expect_problem(bad, 400);
  EXPECT_EQ(json::parse(bad.body).value("field", ""), "rules[0].period");
  const json rules = {{"rules", {{{"pollutant", "so2"}, {"period", "PT1H"}, {"threshold", 40.0}}}},
                      {"anomaly", {{"pollutant", "so2"}, {"score", 8.0}}}};
  const HttpResult put = http_request(port, verb::put, "/api/v1/cases/warn/alert-rules", rules.dump());
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(http_request(port, verb::get, "/api/v1/cases/warn/alert-rules").body), rules);

  // the example's hourly readings: M02 reads 66.57 ug/m3 at 22:00, 56.82 at 00:00 (within 6 h)
  const HttpResult first = http_request(port, verb::post, "/api/v1/cases/warn/readings", slurp(kCase / "readings.csv"));
  ASSERT_EQ(first.status, 200) << first.body;
  const json raised = json::parse(first.body).at("alerts");
  ASSERT_EQ(raised.size(), 1u) << first.body;
  EXPECT_EQ(raised[0].at("station_id"), "M02");
  EXPECT_EQ(raised[0].at("time"), "2021-07-28T14:00:00Z");
  EXPECT_EQ(raised[0].at("rule"), "so2 PT1H mean > 40.0");
  EXPECT_DOUBLE_EQ(raised[0].at("value").get<double>(), 66.57);
  const std::string job = raised[0].at("job");
  // the same readings again: stored once, no new alert
  const json again = json::parse(http_request(port, verb::post, "/api/v1/cases/warn/readings", slurp(kCase / "readings.csv")).body);
  EXPECT_EQ(again.at("added"), 0);
  EXPECT_TRUE(again.at("alerts").empty());
  const json listed = json::parse(http_request(port, verb::get, "/api/v1/alerts?case=warn").body).at("alerts");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].at("job"), job);
  EXPECT_EQ(listed[0].at("case"), "warn");
  EXPECT_TRUE(json::parse(http_request(port, verb::get, "/api/v1/alerts?case=other").body).at("alerts").empty());

  // the job traces [t - 6 h, t + 1 h] and ranks the sources
  const json done = wait_job(port, job);
  ASSERT_EQ(done.at("status"), "successful") << done.dump();
  const HttpResult res = http_request(port, verb::get, "/jobs/" + job + "/results");
  ASSERT_EQ(res.status, 200);
  const json ranking = json::parse(res.body);
  ASSERT_FALSE(ranking.at("candidates").empty());
  std::printf("alert job %s: first %s (p %.3f), window %s\n", job.c_str(),
              ranking["candidates"][0].at("id").get<std::string>().c_str(),
              ranking["candidates"][0].at("probability").get<double>(), ranking.at("window").dump().c_str());
  EXPECT_EQ(ranking["candidates"][0].at("id"), "S007");  // example-101's true source
}

/// The anomaly score over HTTP on both backends; two servers sharing one store receive the same
/// spike at the same moment and raise one alert between them (the dedupe is one transaction).
TEST_P(ServerOnBackend, AnomalyAlertsAreDeduplicatedAndCapped) {
  const std::string& url = url_;
  const fs::path data = fresh_dir("anomaly_" + GetParam());
  ServerProcess srv(data, store_args(url));
  ServerProcess twin(data, store_args(url));  // a second server on the same store (and the same --data files)
  const int port = srv.port();
  ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/anom/files/stations.csv", slurp(kCase / "stations.csv")).status, 201);
  ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/anom/alert-rules",
                         R"({"rules": [{"pollutant": "no2", "period": "PT1H", "threshold": 0}], "anomaly": {"pollutant": "so2"}})")
                .status,
            200);
  auto row = [](int hour, const char* var, double v) {
    char t[40];
    std::snprintf(t, sizeof t, "2022-03-%02dT%02d:00:00Z", 1 + hour / 24, hour % 24);
    return "M01," + std::string(t) + "," + var + "," + std::to_string(v) + ",ug/m3\n";
  };
  const std::string header = "station_id,time,variable,value,unit\n";
  std::string baseline = header;
  for (int h = 0; h < 24; ++h) baseline += row(h, "so2", 10.0 + (h % 5) * 0.5);
  const HttpResult quiet = http_request(port, verb::post, "/api/v1/cases/anom/readings", baseline);
  ASSERT_EQ(quiet.status, 200) << quiet.body;
  EXPECT_TRUE(json::parse(quiet.body).at("alerts").empty());
  // the same spike to both servers at once: one alert between them
  HttpResult a, b;
  std::thread ta([&] { a = http_request(port, verb::post, "/api/v1/cases/anom/readings", header + row(24, "so2", 200)); });
  std::thread tb([&] { b = http_request(twin.port(), verb::post, "/api/v1/cases/anom/readings", header + row(24, "so2", 200)); });
  ta.join();
  tb.join();
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  json spike = json::parse(a.body).at("alerts");
  const json from_twin = json::parse(b.body);
  for (const json& x : from_twin.at("alerts")) spike.push_back(x);
  ASSERT_EQ(spike.size(), 1u) << a.body << "\n" << b.body;
  EXPECT_EQ(spike[0].at("rule"), "so2 robust z >= 8.0");
  EXPECT_GT(spike[0].at("value").get<double>(), 8.0);
  EXPECT_TRUE(spike[0].at("job").is_string());
  // a second spike 2 h later: the same event, no second alert
  const json later = json::parse(http_request(port, verb::post, "/api/v1/cases/anom/readings", header + row(26, "so2", 300)).body);
  EXPECT_TRUE(later.at("alerts").empty()) << later.dump();
  // 20 exceedances 7 h apart in one request: 16 alerts, 4 left out
  std::string backlog = header;
  for (int i = 0; i < 20; ++i) backlog += row(100 + 7 * i, "no2", 50);
  const json capped = json::parse(http_request(port, verb::post, "/api/v1/cases/anom/readings", backlog).body);
  EXPECT_EQ(capped.at("alerts").size(), 16u);
  EXPECT_EQ(capped.at("alerts_left_out"), 4);
  EXPECT_EQ(json::parse(http_request(twin.port(), verb::get, "/api/v1/alerts").body).at("alerts").size(), 17u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerOnBackend, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace

namespace {

/// The members of a zip held in memory (through GDAL's /vsimem/ and /vsizip/), name -> bytes.
std::map<std::string, std::string> unzip(const std::string& zip_bytes) {
  const std::string mem = "/vsimem/plan_test_" + std::to_string(::getpid()) + ".zip";
  VSILFILE* f = VSIFileFromMemBuffer(mem.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(zip_bytes.data())),
                                     static_cast<vsi_l_offset>(zip_bytes.size()), FALSE);
  VSIFCloseL(f);
  std::map<std::string, std::string> out;
  char** names = VSIReadDir(("/vsizip/" + mem).c_str());
  for (char** n = names; n != nullptr && *n != nullptr; ++n) {
    VSILFILE* m = VSIFOpenL(("/vsizip/" + mem + "/" + *n).c_str(), "rb");
    std::string bytes;
    char buf[65536];
    for (std::size_t k; m != nullptr && (k = VSIFReadL(buf, 1, sizeof buf, m)) > 0;) bytes.append(buf, k);
    if (m != nullptr) VSIFCloseL(m);
    out[*n] = bytes;
  }
  CSLDestroy(names);
  VSIUnlink(mem.c_str());
  return out;
}

TEST(Server, PlanJobFromATraceJobEqualsCliAndServesItsBundle) {
  ServerProcess srv(fresh_dir("plan"));
  const int port = srv.port();
  upload_example(port, "ex101");
  const std::string trace_id = submit(port, "ex101");
  ASSERT_EQ(wait_job(port, trace_id).at("status"), "successful");

  const json inputs = {{"inputs", {{"job", trace_id}, {"start_point", {120.03, 28.90}}}}};
  const HttpResult sub = http_request(port, verb::post, "/processes/plan/execution", inputs.dump(),
                                      {{"Content-Type", "application/json"}, {"Prefer", "respond-async"}});
  ASSERT_EQ(sub.status, 201) << sub.body;
  const std::string id = json::parse(sub.body).at("jobID");
  const json done = wait_job(port, id);
  ASSERT_EQ(done.at("status"), "successful") << done.dump();
  EXPECT_EQ(done.at("processID"), "plan");
  const json plan = json::parse(http_request(port, verb::get, "/jobs/" + id + "/results").body);

  // the same plan as the CLI's on the trace job's ranking and posterior
  const fs::path dir = fresh_dir("plan_cli");
  {
    std::ofstream(dir / "ranking.json") << http_request(port, verb::get, "/jobs/" + trace_id + "/results").body;
    const std::string cmd = std::string("'") + PLUMETRACE_BINARY + "' plan '" + kCase.string() + "' --ranking '" +
                            (dir / "ranking.json").string() + "' --start-point 120.03,28.90 --out '" + (dir / "out").string() +
                            "' --json > '" + (dir / "plan.json").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    json cli = json::parse(slurp(dir / "plan.json"));
    EXPECT_EQ(cli["route"], plan["route"]);
    EXPECT_EQ(cli["jurisdictions"], plan["jurisdictions"]);
    EXPECT_EQ(cli["assessment"], plan["assessment"]);
    EXPECT_EQ(cli["ranking_sha256"], plan["ranking_sha256"]);
  }
  EXPECT_EQ(plan["assessment"]["kind"], "source_identified");
  EXPECT_EQ(plan["route"]["start"]["kind"], "given");
  ASSERT_FALSE(plan["route"]["stops"].empty());

  // the bundle: every member but the manifest is listed with its SHA-256
  const HttpResult zip = http_request(port, verb::get, "/jobs/" + id + "/results/bundle.zip");
  ASSERT_EQ(zip.status, 200) << zip.body;
  EXPECT_EQ(zip.header("content-type"), "application/zip");
  const auto members = unzip(zip.body);
  ASSERT_TRUE(members.count("manifest.json"));
  const json manifest = json::parse(members.at("manifest.json"));
  std::set<std::string> listed;
  for (const json& f : manifest.at("files")) {
    listed.insert(f.at("path").get<std::string>());
    ASSERT_TRUE(members.count(f["path"].get<std::string>())) << f["path"];
    EXPECT_EQ(plumetrace::audit::sha256_hex(members.at(f["path"].get<std::string>())), f["sha256"]) << f["path"];
  }
  EXPECT_EQ(listed, (std::set<std::string>{"plan.json", "ranking.json", "posterior.tif", "map.png", "report.html"}));
  EXPECT_EQ(json::parse(members.at("plan.json")), plan);
  const HttpResult report = http_request(port, verb::get, "/jobs/" + id + "/results/report.html");
  EXPECT_EQ(report.status, 200);
  EXPECT_NE(report.header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(report.body.find("data:image/png;base64,"), std::string::npos);
  EXPECT_EQ(http_request(port, verb::get, "/jobs/" + id + "/results/map.png").header("content-type"), "image/png");

  // its audit record
  json mine;
  for (const json& r : plumetrace::audit::read_records(std::getenv("PLUMETRACE_AUDIT_LOG")))
    if (r.value("job", "") == id) mine = r;
  ASSERT_TRUE(mine.is_object());
  EXPECT_EQ(mine["command"], "plan");
  EXPECT_EQ(mine["origin"], "serve");
  EXPECT_EQ(mine["trace_job"], trace_id);
  EXPECT_EQ(mine["result_sha256"], plumetrace::audit::json_sha256(plan));

  // errors
  const auto post = [&](const json& body) {
    return http_request(port, verb::post, "/processes/plan/execution", body.dump(), {{"Content-Type", "application/json"}});
  };
  expect_problem(post({{"inputs", {{"job", "0123456789abcdef0123456789abcdef"}}}}), 404);
  expect_problem(post({{"inputs", {{"job", id}}}}), 422);  // a plan job is not a trace job
  expect_problem(post({{"inputs", {{"job", trace_id}, {"start_point", {500, 1}}}}}), 400);
  expect_problem(post({{"inputs", json::object()}}), 400);
  expect_problem(http_request(port, verb::get, "/jobs/" + trace_id + "/results/bundle.zip"), 404);
  expect_problem(http_request(port, verb::get, "/jobs/" + id + "/results/../../etc/passwd"), 404);
}

}  // namespace

namespace {

TEST(Server, SampleInspectionsJobDrawsFromTheStoredRegistryLikeTheCli) {
  ServerProcess srv(fresh_dir("draw"));
  const int port = srv.port();
  std::string sources = "id,name,lon,lat,height_m,credit\n";
  for (int i = 1; i <= 40; ++i) {
    char line[96];
    std::snprintf(line, sizeof line, "F%03d,works %d,120.%02d,28.80,10,%c\n", i, i, i, "ABCD"[i % 4]);
    sources += line;
  }
  ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/draw/files/sources.csv", sources).status, 201);
  const std::string inspectors = "id,name,exclude\nI1,Li,F001;F002\nI2,Wang,\nI3,Zhang,F003\nI4,Chen,\nI5,Liu,\n";
  const json body = {{"inputs", {{"case", "draw"}, {"inspectors", inspectors},
                                 {"rates", {{"A", 0.1}, {"B", 0.2}, {"C", 0.5}, {"D", 1.0}}}, {"seed", 42}}}};
  const HttpResult r = http_request(port, verb::post, "/processes/sample-inspections/execution", body.dump(),
                                    {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json draw = json::parse(r.body);
  EXPECT_EQ(draw.at("seed"), 42);
  EXPECT_EQ(draw.at("drawn_per_tier").at("D"), 10);  // rate 1: every D facility
  for (const json& a : draw.at("drawn")) {
    const std::string f = a.at("facility_id");
    for (const json& who : a.at("inspectors")) {
      if (f == "F001" || f == "F002") {
        EXPECT_NE(who, "I1");
      }
      if (f == "F003") {
        EXPECT_NE(who, "I3");
      }
    }
  }
  // the CLI on the same files and seed draws the same
  const fs::path dir = fresh_dir("draw_cli");
  std::ofstream(dir / "sources.csv") << sources;
  std::ofstream(dir / "inspectors.csv") << inspectors;
  const std::string cmd = std::string("'") + PLUMETRACE_BINARY + "' sample-inspections '" + (dir / "sources.csv").string() +
                          "' --inspectors '" + (dir / "inspectors.csv").string() +
                          "' --rates A=0.1,B=0.2,C=0.5,D=1 --seed 42 --json > '" + (dir / "draw.json").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const json cli = json::parse(slurp(dir / "draw.json"));
  EXPECT_EQ(cli.at("drawn"), draw.at("drawn"));
  EXPECT_EQ(cli.at("population"), draw.at("population"));

  // its audit record
  json mine;
  for (const json& rec : plumetrace::audit::read_records(std::getenv("PLUMETRACE_AUDIT_LOG")))
    if (rec.value("seq", 0) == draw.at("audit").at("seq").get<int>() && rec.value("hash", "") == draw["audit"]["hash"]) mine = rec;
  ASSERT_TRUE(mine.is_object());
  EXPECT_EQ(mine["command"], "sample-inspections");
  EXPECT_EQ(mine["origin"], "serve");
  EXPECT_EQ(mine["case"], "draw");
  EXPECT_EQ(mine["seeds"]["draw"], 42);

  // no seed: one is chosen and recorded in the result
  json no_seed = body;
  no_seed["inputs"].erase("seed");
  const HttpResult r2 = http_request(port, verb::post, "/processes/sample-inspections/execution", no_seed.dump(),
                                     {{"Content-Type", "application/json"}});
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_TRUE(json::parse(r2.body).at("seed").is_number_unsigned());

  const auto post = [&](json b) {
    return http_request(port, verb::post, "/processes/sample-inspections/execution", b.dump(), {{"Content-Type", "application/json"}});
  };
  json bad = body;
  bad["inputs"].erase("inspectors");
  expect_problem(post(bad), 400);
  bad = body;
  bad["inputs"]["rates"] = "E=0.1";
  expect_problem(post(bad), 400);
  bad = body;
  bad["inputs"]["case"] = "nosuch";
  expect_problem(post(bad), 404);
  ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/empty/files/stations.csv", "id,lon,lat,height_m\nM1,120,28,3\n").status, 201);
  bad = body;
  bad["inputs"]["case"] = "empty";
  expect_problem(post(bad), 422);
}

}  // namespace

namespace {

TEST(Server, RegionsJobAnswersLikeTheCliAndServesItsRasters) {
  ServerProcess srv(fresh_dir("regions"));
  const int port = srv.port();
  // three days at three stations next to the 永康市 | 缙云县 border (scripts/make-regions-case.py)
  const fs::path src = fresh_dir("regions_src");
  const std::string make = std::string("python3 '") + PLUMETRACE_SOURCE_DIR + "/scripts/make-regions-case.py' --out '" +
                           src.string() + "' --days 3 --stations 3 --seed 5";
  ASSERT_EQ(std::system(make.c_str()), 0);
  for (const char* f : {"case.json", "stations.csv", "readings.csv", "boundaries.geojson"}) {
    const int status = http_request(port, verb::put, std::string("/api/v1/cases/long/files/") + f, slurp(src / f)).status;
    ASSERT_TRUE(status == 200 || status == 201) << f << " " << status;
  }

  const json listed = json::parse(http_request(port, verb::get, "/processes").body);
  bool found = false;
  for (const json& p : listed.at("processes")) found = found || p.at("id") == "regions";
  EXPECT_TRUE(found);
  EXPECT_EQ(http_request(port, verb::get, "/processes/regions").status, 200);

  const json body = {{"inputs", {{"case", "long"}}}};
  const HttpResult r = http_request(port, verb::post, "/processes/regions/execution", body.dump(),
                                    {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json doc = json::parse(r.body);
  EXPECT_EQ(doc.at("hours"), 72);
  EXPECT_EQ(doc.at("stations"), 3);
  ASSERT_FALSE(doc.at("jurisdictions").empty());

  // the CLI on the same folder gives the same document
  const fs::path out = src / "cli.json";
  fs::remove(src / "truth.json");
  const std::string cmd = std::string("'") + PLUMETRACE_BINARY + "' regions '" + src.string() + "' --json > '" + out.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const json cli = json::parse(slurp(out));
  EXPECT_EQ(cli.at("jurisdictions"), doc.at("jurisdictions"));
  EXPECT_EQ(cli.at("pscf_peak"), doc.at("pscf_peak"));

  // the rasters, linked from the job's status
  const std::string id = r.header("location").substr(std::string("/jobs/").size());
  const json status = json::parse(http_request(port, verb::get, "/jobs/" + id).body);
  int enclosures = 0;
  for (const json& l : status.at("links")) enclosures += l.at("rel") == "enclosure";
  EXPECT_EQ(enclosures, 3);
  for (const char* f : {"pscf.tif", "cwt.tif"}) {
    const HttpResult tif = http_request(port, verb::get, "/jobs/" + id + "/results/" + f);
    ASSERT_EQ(tif.status, 200) << f;
    EXPECT_EQ(tif.body.substr(0, 4), std::string("II*\0", 4)) << f;
    EXPECT_EQ(tif.header("content-type").rfind("image/tiff", 0), 0U);
  }
  expect_problem(http_request(port, verb::get, "/jobs/" + id + "/results/bundle.zip"), 404);

  const auto post = [&](const json& b) {
    return http_request(port, verb::post, "/processes/regions/execution", b.dump(), {{"Content-Type", "application/json"}});
  };
  expect_problem(post({{"inputs", {{"case", "nosuch"}}}}), 404);
  expect_problem(post({{"inputs", {{"case", "long"}, {"start", "soon"}}}}), 400);
  expect_problem(post({{"inputs", json::object()}}), 400);
  // a case without wind: the job fails with the reason
  ASSERT_EQ(http_request(port, verb::put, "/api/v1/cases/calm/files/stations.csv", "id,lon,lat,height_m\nM1,120.1,28.8,3\n").status, 201);
  ASSERT_LT(http_request(port, verb::put, "/api/v1/cases/calm/files/readings.csv",
                         "station_id,time,variable,value,unit\nM1,2026-06-01T00:00:00+08:00,so2,12,ug/m3\n")
                .status,
            300);
  const HttpResult calm = post({{"inputs", {{"case", "calm"}, {"pollutant", "so2"}}}});
  expect_problem(calm, 422);
  EXPECT_NE(calm.body.find("regions needs wind"), std::string::npos) << calm.body;
}

}  // namespace
