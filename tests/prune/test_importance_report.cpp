// importance.html: one cell per query head, one box per layer's FFN, one point per layer on the
// layer curve, one profile row per layer; each layer's top head in the full colour; the skip-loss
// chart only when measured; values that are not numbers printed as dashes; nothing outside the
// page. (The page drawn in Chromium: test_cli_importance.cpp.)
#include <gtest/gtest.h>

#include <string>

#include "bespoke/model/hf_config.h"
#include "bespoke/prune/importance_report.h"
#include "test_util.h"

namespace bespoke {
namespace {

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The markup of the element with `id`, up to its closing tag.
std::string element(const std::string& html, const std::string& id, const std::string& close) {
  const size_t start = html.find("id=\"" + id + "\"");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find(close, start) - start);
}

prune::Importance scores(const model::ModelSpec& s) {
  // Seeded: unseeded draws sometimes put a second head within one colour step of a layer's top
  // one, and the count of full-colour cells below then sees two.
  torch::manual_seed(11);
  prune::Importance imp;
  imp.method = "minitron";
  imp.tokens = 96;
  for (const model::LayerSpec& l : s.layers) {
    imp.heads.push_back(torch::rand({l.n_heads}, torch::kFloat64));
    imp.kv.push_back(torch::rand({l.n_kv_heads}, torch::kFloat64));
    imp.ffn.push_back(torch::rand({l.ffn_dim}, torch::kFloat64));
    imp.entropy.push_back(torch::rand({l.n_heads}, torch::kFloat64));
  }
  imp.layers = torch::rand({s.n_layers()}, torch::kFloat64);
  imp.residual = torch::rand({s.n_layers()}, torch::kFloat64);
  imp.drift = imp.layers;
  imp.hidden = torch::rand({s.hidden_size}, torch::kFloat64);
  return imp;
}

TEST(ImportanceReport, OneMarkPerUnitAndLayer) {
  const model::ModelSpec s = model::read_hf_config(test::fixture_dir("llama"));
  const prune::Importance imp = scores(s);
  const std::string html = prune::render_importance_html(imp, s);
  const std::string heads = element(html, "head-heatmap", "</svg>");
  EXPECT_EQ(count(heads, "<rect"), size_t(s.n_layers() * s.layers[0].n_heads));
  EXPECT_EQ(count(heads, "fill=\"#1a73e8\""), size_t(s.n_layers())) << "each layer's top head in the full colour";
  EXPECT_EQ(count(element(html, "ffn-chart", "</svg>"), "<rect"), size_t(s.n_layers()));
  EXPECT_EQ(count(element(html, "layer-chart", "</svg>"), "<circle"), size_t(s.n_layers()));
  EXPECT_EQ(count(element(html, "profile-table", "</table>"), "<tr>"), size_t(s.n_layers() + 1));
  EXPECT_NE(html.find("id=\"hidden-chart\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"skip-chart\""), std::string::npos) << "skip-loss was not measured";
  for (const char* tag : {"svg", "text", "title", "table", "tr", "section"})
    EXPECT_EQ(count(html, std::string("<") + tag + ">") + count(html, std::string("<") + tag + " "),
              count(html, std::string("</") + tag + ">"))
        << tag;
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("://"), std::string::npos) << "refers to nothing outside the page";
}

TEST(ImportanceReport, SkipLossChartAndNonNumbers) {
  const model::ModelSpec s = model::read_hf_config(test::fixture_dir("llama"));
  prune::Importance imp = scores(s);
  imp.skip_loss = torch::rand({s.n_layers()}, torch::kFloat64);
  imp.skip_loss[1] = std::nan("");
  imp.method = "<taylor>";
  const std::string html = prune::render_importance_html(imp, s);
  EXPECT_EQ(count(element(html, "skip-chart", "</svg>"), "<circle"), size_t(s.n_layers()));
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_NE(html.find("\xe2\x80\x94"), std::string::npos);
  EXPECT_EQ(html.find("<taylor>"), std::string::npos);
  EXPECT_NE(html.find("&lt;taylor&gt;"), std::string::npos);
}

}  // namespace
}  // namespace bespoke
