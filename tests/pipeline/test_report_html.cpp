// The demo's HTML report: every section and chart of a full report.json, text escaped, a
// report whose stages did not run (every section null) still a page, one-point and flat loss
// curves drawn with a scale; and the page in headless Chromium (tools/interop/check_html.mjs)
// with its charts drawn and no console errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "bespoke/pipeline/report_html.h"
#include "test_util.h"

namespace bespoke {
namespace {

using Json = nlohmann::ordered_json;

// The parts of a REPORT.json of `bespoke eval encoding` that the page shows.
Json eval_report(double epr, double np, double sc) {
  return {{"n", 20},
          {"valid_json", 19},
          {"metrics",
           {{"epr", epr},
            {"fr", 0.02},
            {"fr_pooled", 0.04},
            {"ted_failures", 1},
            {"ccs_pass", 3},
            {"ccs_pairs", 4},
            {"mih_pass", 2},
            {"mih_total", 2},
            {"np", np},
            {"np_dense", np},
            {"sc", sc},
            {"sc_pass", 18}}},
          {"verdict", {{"pass", false}, {"failed", {"epr"}}}},
          {"stress", {{"passed", 5}, {"total", 7}, {"cases", Json::array()}}}};
}

Json full_report() {
  Json curve = Json::array();
  for (int step = 0; step <= 300; step += 10) curve.push_back({step, 6.5 * 60 / (60 + step)});
  return {{"title", "Encoding demo"},
          {"minutes", 7.4},
          {"train",
           {{"steps", 300},
            {"tokens", 123456},
            {"first_loss", 6.5},
            {"final_loss", 1.2},
            {"eval_loss", 1.3},
            {"curve", curve}}},
          {"eval",
           {{"untrained", eval_report(0.1, 0.05, 0.0)},
            {"trained", eval_report(0.925, 0.8, 0.95)},
            {"trained_constrained", eval_report(0.95, 0.85, 1.0)}}},
          {"export",
           {{"gguf", {"model-f32.gguf", "model-q8_0.gguf"}},
            {"llama_cpp_ok", true},
            {"max_logprob_diff", 1.2e-6},
            {"files",
             {{{"path", "model-f32.gguf"},
               {"type", "f32"},
               {"bytes", 1500000},
               {"max_logprob_diff", 1.2e-6},
               {"llama_cpp_ok", true},
               {"llama_cpp_tokens_per_s", 900.0},
               {"bespoke_tokens_per_s", 300.0}},
              {{"path", "model-q8_0.gguf"},
               {"type", "q8_0"},
               {"bytes", 400000},
               {"max_logprob_diff", 0.03},
               {"llama_cpp_ok", false},
               {"llama_cpp_tokens_per_s", 1500.0},
               {"bespoke_tokens_per_s", nullptr}}}}}},
          {"checks",
           {{"loss_fell", true},
            {"grammar_sc", true},
            {"llama_cpp_agrees", false},
            {"within_10_minutes", true},
            {"trained_vs_untrained", {{"epr", "better"}, {"sc", "tie at best"}}},
            {"trained_beats_untrained", true},
            {"by_construction", Json::array({"grammar_sc"})}}},
          {"stages",
           {{{"name", "data"}, {"status", "done"}, {"seconds", 1.2}},
            {{"name", "train"}, {"status", "done"}, {"seconds", 300.5}},
            {{"name", "export"}, {"status", "failed"}, {"seconds", nullptr}}}}};
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The "x,y" pairs of the page's one polyline.
std::vector<std::pair<double, double>> polyline_points(const std::string& html) {
  const std::string open = "<polyline class=\"curve\" points=\"";
  const size_t start = html.find(open);
  if (start == std::string::npos) return {};
  const size_t begin = start + open.size();
  std::istringstream in(html.substr(begin, html.find('"', begin) - begin));
  std::vector<std::pair<double, double>> points;
  std::string pair;
  while (in >> pair) {
    const size_t comma = pair.find(',');
    points.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
  }
  return points;
}

TEST(ReportHtml, FullReportHasEverySectionAndChart) {
  const Json report = full_report();
  const std::string html = pipeline::render_report_html(report);
  for (const char* id :
       {"loss-chart", "metrics-table", "metrics-chart", "export-table", "stage-table", "train-table", "checks-table"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_EQ(count(html, "<polyline"), 1u);
  EXPECT_EQ(polyline_points(html).size(), report["train"]["curve"].size());
  EXPECT_EQ(count(html, "<svg"), 2u);
  for (const char* tag : {"svg", "text", "title", "table", "tr", "section"})
    EXPECT_EQ(count(html, std::string("<") + tag + ">") + count(html, std::string("<") + tag + " "),
              count(html, std::string("</") + tag + ">"))
        << tag << " opened and closed alike";
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("://"), std::string::npos) << "refers to nothing outside the page";

  // The grammar's SC is marked as holding by construction, on its own row and no other.
  EXPECT_EQ(count(html, "by construction of the grammar"), 1u);
  const size_t sc_row = html.find("SC 100% under the grammar");
  ASSERT_NE(sc_row, std::string::npos);
  EXPECT_LT(html.find("by construction of the grammar", sc_row), html.find("</tr>", sc_row));
  EXPECT_NE(html.find("7.4 minutes"), std::string::npos);
  EXPECT_NE(html.find("92.5%"), std::string::npos);          // trained EPR, one decimal
  EXPECT_NE(html.find("95.0% (19/20)"), std::string::npos);  // valid JSON with its count
  EXPECT_NE(html.find("71.4% (5/7)"), std::string::npos);    // stress
  EXPECT_NE(html.find(">1.50<"), std::string::npos);         // 1500000 bytes in MB
  EXPECT_NE(html.find("1.20e-06"), std::string::npos);
  EXPECT_NE(html.find("4.0%"), std::string::npos);  // FR pooled
  EXPECT_NE(html.find("llama.cpp agrees on every exported file</th><td><span class=\"bad\">no</span>"),
            std::string::npos);
  EXPECT_NE(html.find("tie at best"), std::string::npos);
  EXPECT_NE(html.find(">900.0<"), std::string::npos);
  EXPECT_NE(html.find("\xe2\x80\x94"), std::string::npos) << "the missing Bespoke tok/s reads as a dash";
  EXPECT_EQ(html.find("nan"), std::string::npos);
}

TEST(ReportHtml, EscapesText) {
  Json report = full_report();
  report["title"] = "<script>alert('x')</script> & \"q\"";
  report["stages"][0]["name"] = "<b>data</b>";
  report["export"]["files"][0]["path"] = "a<b>&.gguf";
  const std::string html = pipeline::render_report_html(report);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(count(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"),
            2u);  // <title> and <h1>
  EXPECT_NE(html.find("&lt;b&gt;data&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("a&lt;b&gt;&amp;.gguf"), std::string::npos);
}

TEST(ReportHtml, EverySectionNullStillRenders) {
  const Json nulls = {{"title", nullptr}, {"minutes", nullptr}, {"train", nullptr},
                      {"eval", nullptr},  {"export", nullptr},  {"stages", nullptr}};
  for (const Json& report : {nulls, Json::object(), Json()}) {
    const std::string html = pipeline::render_report_html(report);
    EXPECT_NE(html.find("</html>"), std::string::npos);
    EXPECT_NE(html.find("id=\"metrics-table\""), std::string::npos);
    EXPECT_NE(html.find("id=\"export-table\""), std::string::npos);
    EXPECT_EQ(html.find("<svg"), std::string::npos) << "no data, no chart";
    EXPECT_GT(count(html, "\xe2\x80\x94"), 20u);
  }
}

TEST(ReportHtml, WrongTypesAndPartialSectionsReadAsDashes) {
  Json report = full_report();
  report["minutes"] = "seven";
  report["train"]["curve"] = {{0, 6.5}, "bad", {10}, {20, nullptr}, {30, 5.0}};
  report["eval"]["untrained"] = nullptr;
  report["eval"]["trained_constrained"] = {{"metrics", nullptr}};
  report["export"]["files"] = nullptr;
  const std::string html = pipeline::render_report_html(report);
  EXPECT_EQ(polyline_points(html).size(), 2u);
  EXPECT_NE(html.find("id=\"metrics-chart\""), std::string::npos) << "the trained column alone is drawn";
  EXPECT_NE(html.find("model-q8_0.gguf"), std::string::npos) << "the bare file list stands in for details";
}

TEST(ReportHtml, OnePointAndFlatCurvesGetAScale) {
  for (const Json& curve : {Json{{5, 2.0}}, Json{{0, 1.0}, {10, 1.0}, {20, 1.0}}, Json{{0, 0.0}}}) {
    Json report = full_report();
    report["train"]["curve"] = curve;
    const std::string html = pipeline::render_report_html(report);
    const std::vector<std::pair<double, double>> points = polyline_points(html);
    ASSERT_EQ(points.size(), curve.size()) << curve;
    for (const auto& [x, y] : points) {
      EXPECT_GT(x, 0);
      EXPECT_LT(x, 640);
      EXPECT_GT(y, 0);
      EXPECT_LT(y, 320);
      EXPECT_DOUBLE_EQ(y, points[0].second);
    }
    EXPECT_NE(html.find("<circle class=\"last\""), std::string::npos) << "a single point is still visible";
    EXPECT_EQ(html.find("nan"), std::string::npos);
    EXPECT_EQ(html.find("inf"), std::string::npos);
  }
}

// Debian's chromium through playwright-core. Not skipped when Chromium is missing: the README's
// test command installs it.
TEST(ReportHtml, ChromiumDrawsTheCharts) {
  const std::string path = test::scratch_dir("report-html") + "/report.html";
  std::ofstream(path) << pipeline::render_report_html(full_report());
  const test::CommandResult r = test::run_command("node " + std::string(BESPOKE_INTEROP) + "/check_html.mjs " + path);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json result = Json::parse(r.out);
  EXPECT_TRUE(result["ok"].get<bool>());
  EXPECT_EQ(result["svgs"].size(), 2u);
}

}  // namespace
}  // namespace bespoke
