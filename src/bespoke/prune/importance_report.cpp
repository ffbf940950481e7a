#include "bespoke/prune/importance_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "bespoke/core/atomic_file.h"
#include "bespoke/core/html.h"

namespace bespoke::prune {
namespace {

using html::escape;
using html::format;
using Values = std::vector<double>;

const char* const kDash = "\xe2\x80\x94";  // an em dash: a value that is not a number
constexpr double kWidth = 640, kLeft = 56, kRight = 16, kTop = 40, kBottom = 40, kPlot = 200;

Values values(const torch::Tensor& t) {
  if (!t.defined()) return {};
  const torch::Tensor c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// Non-finite values are drawn as zero and printed as a dash.
double finite(double v) {
  return std::isfinite(v) ? v : 0.0;
}

std::string number(double v) {
  return std::isfinite(v) ? format("%.4g", v) : kDash;
}

double largest(const Values& v) {
  double m = 0;
  for (const double x : v) m = std::max(m, finite(x));
  return m;
}

// From a pale grey at 0 to blue at 1.
std::string color(double t) {
  t = std::clamp(finite(t), 0.0, 1.0);
  const auto mix = [&](int lo, int hi) { return int(std::lround(lo + (hi - lo) * t)); };
  return format("#%02x%02x%02x", mix(0xf1, 0x1a), mix(0xf3, 0x73), mix(0xf4, 0xe8));
}

std::string svg_open(const char* id, const std::string& title, double height) {
  std::string svg = format("<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" ",
                           id, kWidth, height, kWidth, height);
  svg += format("role=\"img\" aria-labelledby=\"%s-title\"><title id=\"%s-title\">%s</title>", id, id, title.c_str());
  svg += format("<text class=\"chart-title\" x=\"%.1f\" y=\"22\" text-anchor=\"middle\">%s</text>", kWidth / 2,
                title.c_str());
  return svg;
}

// y of `v` on a plot from kTop (at `hi`) down kPlot pixels (at `lo`).
double to_y(double v, double lo, double hi) {
  return kTop + kPlot * (1 - (finite(v) - lo) / (hi > lo ? hi - lo : 1));
}

std::string y_labels(double lo, double hi) {
  std::string svg;
  for (const double v : {lo, hi})
    svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", kLeft - 6,
                  to_y(v, lo, hi) + 4, number(v).c_str());
  return svg + format("<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft, kTop, kLeft,
                      kTop + kPlot);
}

// One row of cells per layer, each scaled to its row's maximum.
std::string heatmap(const char* id, const std::string& title, const std::vector<Values>& rows, const char* unit) {
  size_t columns = 0;
  for (const Values& r : rows) columns = std::max(columns, r.size());
  if (columns == 0) return "";
  const double cell_w = std::min(24.0, (kWidth - kLeft - kRight) / double(columns)), cell_h = 14;
  std::string svg = svg_open(id, title, kTop + cell_h * double(rows.size()) + kBottom);
  for (size_t i = 0; i < rows.size(); ++i) {
    const double y = kTop + cell_h * double(i), top = largest(rows[i]);
    svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%zu</text>", kLeft - 6, y + 11, i);
    for (size_t j = 0; j < rows[i].size(); ++j) {
      const double v = rows[i][j];
      svg +=
          format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", kLeft + cell_w * double(j),
                 y, cell_w - 1, cell_h - 1, color(top > 0 ? finite(v) / top : 0).c_str());
      svg += format("<title>layer %zu %s %zu: %s</title></rect>", i, unit, j, number(v).c_str());
    }
  }
  svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", kWidth / 2,
                kTop + cell_h * double(rows.size()) + 24, unit);
  return svg + "</svg>";
}

// The q-quantile of sorted `v` (linear between neighbours).
double quantile(const Values& v, double q) {
  const double at = q * double(v.size() - 1);
  const size_t lo = size_t(std::floor(at)), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - double(lo));
}

// Per layer: a line from min to max, a box over the quartiles, a tick at the median.
std::string boxes(const char* id, const std::string& title, const std::vector<Values>& per_layer) {
  double hi = 0;
  for (const Values& v : per_layer) hi = std::max(hi, largest(v));
  if (hi <= 0) return "";
  std::string svg = svg_open(id, title, kTop + kPlot + kBottom) + y_labels(0, hi);
  const double step = (kWidth - kLeft - kRight) / double(per_layer.size()), w = std::min(16.0, step * 0.6);
  for (size_t i = 0; i < per_layer.size(); ++i) {
    Values v = per_layer[i];
    if (v.empty()) continue;
    for (double& x : v) x = finite(x);
    std::sort(v.begin(), v.end());
    const double x = kLeft + step * (double(i) + 0.5), q1 = to_y(quantile(v, 0.25), 0, hi);
    const double q3 = to_y(quantile(v, 0.75), 0, hi), median = to_y(quantile(v, 0.5), 0, hi);
    svg += format("<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x,
                  to_y(v.front(), 0, hi), x, to_y(v.back(), 0, hi));
    svg += format("<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">", x - w / 2, q3, w,
                  std::max(1.0, q1 - q3));
    svg += format("<title>layer %zu: min %s, median %s, max %s</title></rect>", i, number(v.front()).c_str(),
                  number(quantile(v, 0.5)).c_str(), number(v.back()).c_str());
    svg += format("<line class=\"median\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x - w / 2, median,
                  x + w / 2, median);
  }
  return svg + "</svg>";
}

// A polyline over the values in order, with a dot per value when there are few.
std::string curve(const char* id, const std::string& title, const Values& v, const char* x_label) {
  if (v.empty()) return "";
  double lo = 0, hi = 0;
  for (const double x : v) lo = std::min(lo, finite(x)), hi = std::max(hi, finite(x));
  std::string svg = svg_open(id, title, kTop + kPlot + kBottom) + y_labels(lo, hi);
  const double step = (kWidth - kLeft - kRight) / double(std::max<size_t>(v.size() - 1, 1));
  std::string points;
  for (size_t i = 0; i < v.size(); ++i)
    points += format(i ? " %.1f,%.1f" : "%.1f,%.1f", kLeft + step * double(i), to_y(v[i], lo, hi));
  svg += "<polyline class=\"curve\" points=\"" + points + "\"/>";
  if (v.size() <= 64)
    for (size_t i = 0; i < v.size(); ++i)
      svg += format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>%s %zu: %s</title></circle>",
                    kLeft + step * double(i), to_y(v[i], lo, hi), x_label, i, number(v[i]).c_str());
  svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", kWidth / 2,
                kTop + kPlot + 28, x_label);
  return svg + "</svg>";
}

double mean(const Values& v) {
  double sum = 0;
  for (const double x : v) sum += x;
  return v.empty() ? NAN : sum / double(v.size());
}

std::string profile_table(const Importance& imp, const model::ModelSpec& s) {
  const Values score = values(imp.layers), residual = values(imp.residual), drift = values(imp.drift);
  const Values skip = values(imp.skip_loss);
  std::string t = "<table id=\"profile-table\"><tr><th>layer</th><th>heads</th><th>KV groups</th><th>FFN</th>";
  t += "<th>layer score</th><th>residual contribution</th><th>cosine drift</th><th>mean attention entropy</th>";
  t += "<th>loss increase when skipped</th></tr>";
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    const model::LayerSpec& l = s.layers[i];
    t += format("<tr><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>", (long long)i, (long long)l.n_heads,
                (long long)l.n_kv_heads, (long long)l.ffn_dim);
    t += "<td>" + number(score[i]) + "</td><td>" + number(residual[i]) + "</td><td>" + number(drift[i]) + "</td>";
    t += "<td>" + number(mean(values(imp.entropy[i]))) + "</td><td>" + (skip.empty() ? kDash : number(skip[i])) +
         "</td></tr>";
  }
  return t + "</table>";
}

const char* const kStyle =
    "body{font-family:sans-serif;margin:24px;color:#202124}"
    "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #dadce0;padding:3px 8px;text-align:right}"
    ".chart{display:block;margin:16px 0}.chart-title{font-size:14px;font-weight:bold}"
    ".tick,.label{font-size:11px;fill:#5f6368}.axis{stroke:#5f6368}"
    ".curve{fill:none;stroke:#1a73e8;stroke-width:2}circle{fill:#1a73e8}"
    ".box{fill:#8ab4f8;stroke:#1a73e8}.whisker{stroke:#5f6368}.median{stroke:#202124;stroke-width:2}";

}  // namespace

std::string render_importance_html(const Importance& imp, const model::ModelSpec& s) {
  std::vector<Values> heads, entropy, ffn;
  for (int64_t i = 0; i < s.n_layers(); ++i) {
    heads.push_back(values(imp.heads[i]));
    entropy.push_back(values(imp.entropy[i]));
    ffn.push_back(values(imp.ffn[i]));
  }
  Values hidden = values(imp.hidden);
  std::sort(hidden.begin(), hidden.end(), [](double a, double b) { return finite(a) > finite(b); });
  const std::string method = escape(imp.method);
  const char* layer_score = imp.method == "taylor" ? "Taylor score" : "block influence (1 - cos)";
  std::string page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Importance (" + method +
                     ")</title><style>" + kStyle + "</style></head><body>";
  page += "<h1>Importance (" + method + ")</h1>";
  page += format("<p>%s family, %lld layers, hidden %lld; %lld calibration tokens.</p>", escape(s.family).c_str(),
                 (long long)s.n_layers(), (long long)s.hidden_size, (long long)imp.tokens);
  page += "<section><h2>Layers</h2>" +
          curve("layer-chart", std::string("Layer score: ") + layer_score, values(imp.layers), "layer");
  page += curve("skip-chart", "Loss increase when the layer is skipped (nats/token)", values(imp.skip_loss), "layer");
  page += profile_table(imp, s) + "</section>";
  page += "<section><h2>Attention</h2>" + heatmap("head-heatmap", "Query head importance (per layer)", heads, "head");
  page += heatmap("entropy-heatmap", "Attention entropy (per layer)", entropy, "head") + "</section>";
  page += "<section><h2>FFN</h2>" + boxes("ffn-chart", "FFN neuron importance per layer", ffn) + "</section>";
  page += "<section><h2>Hidden channels</h2>" +
          curve("hidden-chart", "Hidden channel importance, sorted", hidden, "channel rank") + "</section>";
  return page + "</body></html>\n";
}

void write_importance_html(const std::string& dir, const Importance& imp, const model::ModelSpec& spec) {
  const std::string page = render_importance_html(imp, spec);
  write_file_atomic((std::filesystem::path(dir) / "importance.html").string(), [&](std::ostream& out) { out << page; });
}

}  // namespace bespoke::prune
