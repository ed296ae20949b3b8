// plumetrace serve, end to end: the real binary on an ephemeral port, a real HTTP client.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "case_helpers.hpp"
#include "http_client.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using plumetrace::test::HttpClient;
using plumetrace::test::http_request;
using plumetrace::test::HttpResult;
using plumetrace::test::ServerProcess;
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

}  // namespace
