// A run's HTML report: every section and chart of a full report.json, tags balanced, text
// escaped, nothing fetched; a report whose phases did not run (every section null) still a page;
// and the page in headless Chromium (tools/interop/check_html.mjs) with its charts drawn and no
// console errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "bespoke/pipeline/report_html.h"
#include "test_util.h"

namespace bespoke {
namespace {

using Json = nlohmann::ordered_json;

Json curve(int n, double start) {
  Json c = Json::array();
  for (int i = 0; i < n; ++i) c.push_back({i * 10, start * 60 / (60 + i * 10)});
  return c;
}

Json arm(const char* description, double loss) {
  return {{"description", description},
          {"skipped", nullptr},
          {"lr", 0.003},
          {"seeds",
           {{{"seed", 0}, {"curve", {{1000, loss + 2}, {4000, loss + 1}, {16000, loss}}}, {"final_eval_loss", loss}},
            {{"seed", 1}, {"curve", {{1000, loss + 2.1}, {4000, loss + 1.1}, {16000, loss + 0.1}}},
             {"final_eval_loss", loss + 0.1}}}},
          {"final_eval_loss", loss + 0.05},
          {"final_eval_loss_sd", 0.07},
          {"tokens", 16000}};
}

Json full_report() {
  Json files = Json::array();
  for (const char* type : {"f16", "q8_0"})
    files.push_back({{"path", std::string("pruned-") + type + ".gguf"},
                     {"type", type},
                     {"bytes", 1500000},
                     {"max_logprob_diff", 0.012},
                     {"load_seconds", 0.05},
                     {"peak_rss_bytes", 90000000},
                     {"tokens_per_s", 900.0},
                     {"llama_cpp_ok", true}});
  const Json bespoke = {{"load_seconds", 0.1}, {"rss_bytes", 4000000}, {"tokens_per_s", 300.0}};
  return {{"title", "Bespoke run: demo.toml"},
          {"minutes", 12.5},
          {"checks", {{"parent_at_least_4x", true}, {"a_vs_b", "A beats B"}}},
          {"stages",
           {{{"name", "data"}, {"status", "done"}, {"seconds", 1.2}},
            {{"name", "recover"}, {"status", "skipped (done before)"}, {"seconds", 300.5}}}},
          {"ledger",
           {{"stages", {{"data", {{"seconds", 1.2}, {"device_hours", 0.0003}, {"cost", 0.001}}}}},
            {"cost", 0.001},
            {"cost_cap", 150},
            {"device_hours", 0.0003},
            {"price_per_hour", 2.5}}},
          {"feasibility",
           {{"candidates",
             {{{"rank", 1}, {"name", "parent"}, {"class", "dense"}, {"supported", true}, {"params", 3000000},
               {"target", {{"params", 700000}}}, {"total_hours", 0.2}, {"total_cost", 0.5}, {"within_cap", true},
               {"one_shot_loss", 4.25}},
              {{"rank", 2}, {"name", "qwen3.5"}, {"class", "hybrid"}, {"supported", false}, {"params", nullptr}}}}}},
          {"parent", {{"pretrain", {{"curve", curve(30, 7.0)}}}}},
          {"finetune", {{"curve", curve(5, 2.0)}}},
          {"recover", {{"curve", curve(12, 3.0)}}},
          {"importance", {{"html", nullptr}}},
          {"prune",
           {{"method", "minitron"},
            {"quality",
             {{"rows",
               {{{"round", 0}, {"target", nullptr}, {"params", 3000000}, {"share", 1.0}, {"loss", 1.5}},
                {{"round", 1}, {"target", "hidden=96"}, {"params", 700000}, {"share", 0.2333}, {"loss_pruned", 4.2},
                 {"loss", 1.9}}}}}}}},
          {"gate",
           {{"verdict", "no-go"},
            {"worse", 3},
            {"max_worse", 2},
            {"baseline_from", "the fine-tuned base"},
            {"table", {{{"metric", "EPR"}, {"candidate", 0.5}, {"baseline", 0.7}, {"worse", true}}}}}},
          {"lottery",
           {{"arms", {{"A", arm("inherited", 2.0)}, {"B", arm("fresh init", 2.5)}, {"C", arm("shuffled", 2.6)},
                      {"D", arm("random units", 2.2)}}},
            {"token_multiplier", {{"text", "more than 2x"}, {"b_curve", {{16000, 2.5}, {32000, 2.3}}}}},
            {"a_beats_b", true},
            {"a_minus_b", 0.5}}},
          {"export",
           {{"llama_cpp_ok", true},
            {"base", {{"files", files}, {"bespoke", bespoke}}},
            {"pruned", {{"files", files}, {"bespoke", bespoke}}},
            {"speedup", {{"f16", 2.5}, {"q8_0", 2.1}}}}}};
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST(ReportHtml, FullReportHasEverySectionAndChart) {
  const std::string html = pipeline::render_report_html(full_report());
  for (const char* id : {"checks-table", "stage-table", "phase0-table", "phase-loss-chart", "quality-table",
                         "quality-chart", "gate-table", "lottery-table", "lottery-chart", "export-table",
                         "bespoke-table", "speedup", "multiplier", "verdict", "cost"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  // Three phases' curves, and two seeds of four arms plus B's extension.
  EXPECT_EQ(count(html, "<polyline class=\"series\""), 3u + 8u + 1u);
  for (const char* tag : {"svg", "text", "title", "table", "tr", "section"})
    EXPECT_EQ(count(html, std::string("<") + tag + ">") + count(html, std::string("<") + tag + " "),
              count(html, std::string("</") + tag + ">"))
        << tag << " opened and closed alike";
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos) << "refers to nothing outside the page";
  EXPECT_NE(html.find("12.5 minutes"), std::string::npos);
  EXPECT_NE(html.find("<b>no-go</b>"), std::string::npos);
  EXPECT_NE(html.find("more than 2x"), std::string::npos);
  EXPECT_NE(html.find("q8_0 2.10&times;"), std::string::npos);
  EXPECT_NE(html.find(">90.0<"), std::string::npos);  // peak MB
  EXPECT_NE(html.find(">23.3%<"), std::string::npos);  // the cut's share
  EXPECT_NE(html.find("\xe2\x80\x94"), std::string::npos) << "the hybrid's missing count reads as a dash";
  EXPECT_EQ(html.find("nan"), std::string::npos);
}

TEST(ReportHtml, EscapesText) {
  Json report = full_report();
  report["title"] = "<script>alert('x')</script> & \"q\"";
  report["stages"][0]["name"] = "<b>data</b>";
  report["feasibility"]["candidates"][0]["name"] = "a<b>&c";
  const std::string html = pipeline::render_report_html(report);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<b>data"), std::string::npos);
  EXPECT_EQ(count(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"), 2u);
  EXPECT_NE(html.find("&lt;b&gt;data&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("a&lt;b&gt;&amp;c"), std::string::npos);
}

TEST(ReportHtml, EverySectionNullStillRenders) {
  for (const Json& report : {Json{{"title", nullptr}, {"lottery", nullptr}, {"export", nullptr}}, Json::object(), Json()}) {
    const std::string html = pipeline::render_report_html(report);
    EXPECT_NE(html.find("</html>"), std::string::npos);
    EXPECT_NE(html.find("id=\"stage-table\""), std::string::npos);
    EXPECT_NE(html.find("id=\"export-table\""), std::string::npos);
    EXPECT_EQ(html.find("<svg"), std::string::npos) << "no data, no chart";
    EXPECT_GT(count(html, "\xe2\x80\x94"), 10u);
  }
}

// The importance page inlined: its body, and its style with every selector scoped to it, so that
// its curves keep their look without restyling the report's own.
TEST(ReportHtml, ImportancePageIsInlinedWithItsStyleScoped) {
  const std::string page = test::scratch_dir("report-importance") + "/importance.html";
  std::ofstream(page) << "<!DOCTYPE html><html><head><style>.curve{fill:none}.tick,.label{font-size:11px}</style>"
                         "</head><body><svg id=\"layer-chart\"></svg></body></html>";
  Json report = full_report();
  report["importance"] = {{"html", page}};
  const std::string html = pipeline::render_report_html(report);
  EXPECT_NE(html.find("<style>#importance-charts .curve{fill:none}#importance-charts .tick,#importance-charts "
                      ".label{font-size:11px}</style><div id=\"importance-charts\"><svg id=\"layer-chart\"></svg></div>"),
            std::string::npos)
      << html;
}

TEST(ReportHtml, OpensInHeadlessChromium) {
  const std::string path = test::scratch_dir("report-html") + "/report.html";
  std::ofstream(path) << pipeline::render_report_html(full_report());
  const test::CommandResult r = test::run_command(
      "node " + std::string(BESPOKE_INTEROP) + "/check_html.mjs " + path +
      " stage-table phase0-table phase-loss-chart quality-chart gate-table lottery-chart export-table");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace bespoke
