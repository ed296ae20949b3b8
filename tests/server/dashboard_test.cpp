// The dashboard, end to end: the real server with a finished job, Debian's headless Chromium
// opening `/?case=...&job=...`; the DOM must hold the ranking table's rows and the screenshot the
// posterior's tiles (pixels in the posterior colormap, blended as the page draws them).

#include <gtest/gtest.h>

#include <png.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "case_helpers.hpp"
#include "http_client.hpp"
#include "plumetrace/render/colormap.hpp"

namespace {

using plumetrace::test::http_request;
using plumetrace::test::HttpResult;
using plumetrace::test::ServerProcess;
using namespace plumetrace::test::cases;

/// The Chromium executable, or "" when none is installed.
std::string chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(p)) return p;
  return "";
}

/// Run headless Chromium on `url` with `args`; returns its exit status.
int run_chromium(const std::string& url, const std::string& args, const fs::path& profile, const fs::path& out) {
  const std::string cmd = "timeout 180 '" + chromium() + "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage" +
                          " --no-first-run --hide-scrollbars --user-data-dir='" + profile.string() + "'" +
                          " --window-size=1280,900 --virtual-time-budget=20000 " + args + " '" + url + "' > '" +
                          out.string() + "' 2>/dev/null";
  return std::system(cmd.c_str());
}

struct Image {
  int width{}, height{};
  std::vector<png_byte> rgba;  // width * height * 4
};

/// Decode a PNG file with libpng into 8-bit RGBA.
Image read_png(const fs::path& path) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  Image out;
  if (!png_image_begin_read_from_file(&img, path.c_str())) return out;
  img.format = PNG_FORMAT_RGBA;
  out.rgba.resize(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, out.rgba.data(), 0, nullptr)) return {};
  out.width = static_cast<int>(img.width);
  out.height = static_cast<int>(img.height);
  return out;
}

TEST(Dashboard, ChromiumShowsTheRankingTableAndThePosteriorTilesAndTellsAPlanJobApart) {
  if (chromium().empty()) GTEST_SKIP() << "no Chromium installed (scripts/setup-deps.sh installs it)";
  if (!fs::exists("/usr/share/javascript/leaflet/leaflet.js")) GTEST_SKIP() << "no libjs-leaflet installed";
  const fs::path dir = fresh_dir("dashboard");
  ServerProcess server(dir / "data");
  const int port = server.port();
  upload_example(port, "dash");
  const std::string id = submit(port, "dash");
  const json status = wait_job(port, id);
  ASSERT_EQ(status.at("status"), "successful");
  EXPECT_EQ(status.at("case"), "dash");  // the page finds a job's case in its status document
  const json ranking = json::parse(http_request(port, verb::get, "/jobs/" + id + "/results").body);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/?case=dash&job=" + id;

  // the page and what it loads are served by plumetrace itself
  EXPECT_EQ(http_request(port, verb::get, "/").status, 200);
  EXPECT_EQ(http_request(port, verb::get, "/static/app.js").status, 200);
  EXPECT_EQ(http_request(port, verb::get, "/static/leaflet/leaflet.js").status, 200);
  EXPECT_EQ(http_request(port, verb::get, "/static/leaflet/../style.css").status, 404);

  // DOM: one row per candidate, in the ranking's order
  const fs::path dom_file = dir / "dom.html";
  ASSERT_EQ(run_chromium(url, "--dump-dom", dir / "profile-dom", dom_file), 0);
  const std::string dom = slurp(dom_file);
  // rows are <tr class="candidate..." data-id="ID" (scanned by hand: <regex> draws a false
  // -Wmaybe-uninitialized from GCC 12 inside libstdc++ in the sanitizer build)
  std::vector<std::string> rows;
  const std::string row_open = "<tr class=\"candidate", id_attr = "\" data-id=\"";
  for (std::size_t pos = dom.find(row_open); pos != std::string::npos; pos = dom.find(row_open, pos + 1)) {
    const std::size_t class_end = dom.find('"', pos + row_open.size());
    if (class_end == std::string::npos || dom.compare(class_end, id_attr.size(), id_attr) != 0) continue;
    const std::size_t id_start = class_end + id_attr.size(), id_end = dom.find('"', id_start);
    if (id_end != std::string::npos && id_end > id_start) rows.push_back(dom.substr(id_start, id_end - id_start));
  }
  ASSERT_EQ(rows.size(), ranking.at("candidates").size()) << dom.substr(0, 4000);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i], ranking["candidates"][i].at("id").get<std::string>());
  EXPECT_NE(dom.find("data-ranking=\"ready\""), std::string::npos);
  EXPECT_NE(dom.find("leaflet-tile"), std::string::npos) << "no tile image in the map";

  // screenshot: posterior tiles drawn with viridis at 75 % opacity over the white map
  const fs::path shot = dir / "screenshot.png";
  ASSERT_EQ(run_chromium(url, "--screenshot='" + shot.string() + "'", dir / "profile-shot", dir / "shot.log"), 0);
  const Image img = read_png(shot);
  ASSERT_GT(img.width, 0) << "cannot decode " << shot;
  const auto& viridis = plumetrace::colormap_by_name("viridis");
  std::size_t matching = 0;
  for (int p = 0; p < img.width * img.height; ++p) {
    const png_byte* px = &img.rgba[4 * static_cast<std::size_t>(p)];
    if (px[0] > 250 && px[1] > 250 && px[2] > 250) continue;  // the map's white background
    for (int k = 0; k < 256; k += 1) {
      int worst = 0;
      for (int ch = 0; ch < 3; ++ch)
        worst = std::max(worst, std::abs(static_cast<int>(px[ch]) - static_cast<int>(0.75 * viridis[k][ch] + 0.25 * 255 + 0.5)));
      if (worst <= 4) {
        ++matching;
        break;
      }
    }
  }
  EXPECT_GT(matching, 20000u) << "posterior-coloured pixels in the " << img.width << "x" << img.height << " screenshot";

  // a plan job is listed with its process, and opening it shows no ranking (its results are a
  // plan document, not a ranking)
  const json plan_inputs = {{"inputs", {{"job", id}, {"start_point", {120.03, 28.90}}}}};
  const HttpResult sub = http_request(port, verb::post, "/processes/plan/execution", plan_inputs.dump(),
                                      {{"Content-Type", "application/json"}, {"Prefer", "respond-async"}});
  ASSERT_EQ(sub.status, 201) << sub.body;
  const std::string plan_id = json::parse(sub.body).at("jobID");
  ASSERT_EQ(wait_job(port, plan_id).at("status"), "successful");
  const fs::path plan_dom_file = dir / "plan-dom.html";
  ASSERT_EQ(run_chromium("http://127.0.0.1:" + std::to_string(port) + "/?case=dash&job=" + plan_id, "--dump-dom",
                         dir / "profile-plan", plan_dom_file),
            0);
  const std::string plan_dom = slurp(plan_dom_file);
  EXPECT_NE(plan_dom.find("data-ranking=\"not-a-trace\""), std::string::npos) << plan_dom.substr(0, 4000);
  EXPECT_NE(plan_dom.find("is a plan job, not a trace"), std::string::npos);
  EXPECT_EQ(plan_dom.find("<tr class=\"candidate"), std::string::npos) << "a plan job drew a ranking";
  EXPECT_NE(plan_dom.find("<td class=\"process\">plan</td>"), std::string::npos) << "jobs table without the plan job's process";
  EXPECT_NE(plan_dom.find("<td class=\"process\">trace</td>"), std::string::npos) << "jobs table without the trace job's process";
}

}  // namespace
