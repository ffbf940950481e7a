#include "bespoke/pipeline/quality_chart.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "bespoke/core/html.h"
#include "bespoke/pipeline/json_fields.h"

namespace bespoke::pipeline {
namespace {

using html::format;
using Json = nlohmann::ordered_json;

constexpr double kWidth = 640, kPanel = 320, kLeft = 72, kRight = 24, kTop = 52, kBottom = 56;

struct Axis {
  double lo, hi, step;
  double to(double v, double from, double span) const { return from + (v - lo) / (hi - lo) * span; }
};

// [lo, hi] widened to about five round ticks (1, 2 or 5 times a power of ten); a single value
// gets a band around it.
Axis nice_axis(double lo, double hi) {
  if (hi <= lo) {
    const double pad = lo != 0 ? std::abs(lo) * 0.1 : 1;
    lo = std::max(0.0, lo - pad), hi += pad;
  }
  const double raw = (hi - lo) / 5, magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double f = raw / magnitude, step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

std::vector<double> ticks(const Axis& a) {
  std::vector<double> out;
  for (long i = 0, n = std::lround((a.hi - a.lo) / a.step); i <= n; ++i) {
    const double v = a.lo + double(i) * a.step;
    out.push_back(std::abs(v) < a.step * 1e-6 ? 0.0 : v);
  }
  return out;
}

// 1.5B, 800M, 64K: parameter counts as --targets writes them.
std::string count_label(double v) {
  const std::pair<double, const char*> units[] = {{1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
  for (const auto& [scale, suffix] : units)
    if (std::abs(v) >= scale) return format("%g%s", std::round(v / scale * 100) / 100, suffix);
  return format("%g", v);
}

// Points of one series: (parameters, value).
using Points = std::vector<std::pair<double, double>>;

struct Series {
  Points points;
  const char* css_class;
  bool joined;  // a line through the points, in order of size
};

// One chart panel at vertical offset `top`: its frame, ticks, series and legend.
std::string panel(const char* id, const char* title, const char* y_label, bool percent, double top,
                  const std::vector<Series>& series) {
  double x_lo = 0, x_hi = 0, y_lo = 1e300, y_hi = -1e300;
  for (const Series& s : series)
    for (const auto& [x, y] : s.points) x_hi = std::max(x_hi, x), y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
  if (y_lo > y_hi) y_lo = y_hi = 0;  // nothing to plot: an empty frame
  const Axis xa = nice_axis(x_lo, x_hi), ya = nice_axis(percent ? 0 : y_lo, percent ? 1 : y_hi);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kPanel - kTop - kBottom, bottom = top + kPanel - kBottom;
  const auto px = [&](double x) { return xa.to(x, kLeft, plot_w); };
  const auto py = [&](double y) { return bottom - (ya.to(y, 0, plot_h)); };
  std::string svg = format("<g id=\"%s\"><title>%s</title>", id, title);
  svg += format("<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", kWidth / 2, top + 24,
                title);
  for (const double t : ticks(ya)) {
    svg += format("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft, py(t),
                  kWidth - kRight, py(t));
    svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", kLeft - 8, py(t) + 4,
                  (percent ? format("%.0f%%", t * 100) : format("%g", t)).c_str());
  }
  for (const double t : ticks(xa))
    svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", px(t), bottom + 18,
                  count_label(t).c_str());
  svg += format("<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft, bottom,
                kWidth - kRight, bottom);
  svg += format("<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft, top + kTop, kLeft,
                bottom);
  svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">parameters</text>",
                kLeft + plot_w / 2, bottom + 40);
  svg += format("<text class=\"label\" transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>",
                top + kTop + plot_h / 2, y_label);
  for (const Series& s : series) {
    Points sorted = s.points;
    std::sort(sorted.begin(), sorted.end());
    if (s.joined && sorted.size() > 1) {
      svg += format("<polyline class=\"%s\" points=\"", s.css_class);
      for (size_t i = 0; i < sorted.size(); ++i)
        svg += format("%s%.1f,%.1f", i ? " " : "", px(sorted[i].first), py(sorted[i].second));
      svg += "\"/>";
    }
    for (const auto& [x, y] : sorted)
      svg += format("<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>%s: %.4g</title></circle>",
                    s.css_class, px(x), py(y), count_label(x).c_str(), y);
  }
  double legend_x = kLeft + 8;
  for (const Series& s : series) {
    svg += format("<circle class=\"%s key\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>", s.css_class, legend_x, top + kTop - 8);
    svg += format("<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">%s</text>", legend_x + 8, top + kTop - 4,
                  std::string(s.css_class) == "cut" ? "after the cut" : "source and recovered rounds");
    legend_x += 200;
  }
  return svg + "</g>";
}

// The rows' (parameters, value) where `value` of the row is a finite number.
template <typename Value>
Points points_of(const Json& rows, Value value) {
  Points out;
  for (const Json& r : rows) {
    const std::optional<double> x = number(field(r, "params")), y = number(value(r));
    if (x && y) out.push_back({*x, *y});
  }
  return out;
}

}  // namespace

std::string render_quality_svg(const Json& q) {
  const Json& rows = field(q, "rows");
  const bool task = field(q, "task").is_string();
  const double height = task ? 2 * kPanel : kPanel;
  std::string svg = format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">",
      kWidth, height, kWidth, height);
  svg +=
      "<style>.grid{stroke:#e0e0e0}.axis{stroke:#5f6368}.tick,.label,.legend{fill:#3c4043}"
      ".title{font-size:14px;font-weight:bold;fill:#202124}polyline.recovered{fill:none;stroke:#1a73e8;stroke-width:2}"
      "circle.recovered{fill:#1a73e8}circle.cut{fill:#fff;stroke:#e37400;stroke-width:2}</style>";
  svg += format("<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>", kWidth, height);
  const auto cut = [](const Json& r) { return field(r, "loss_pruned"); };
  const auto loss = [](const Json& r) { return field(r, "loss"); };
  svg += panel("loss-chart", "Held-out loss against size", "loss (nats per token)", false, 0,
               {{points_of(rows, loss), "recovered", true}, {points_of(rows, cut), "cut", false}});
  if (task) {
    const auto epr = [](const Json& r) { return field(field(r, "task"), "epr"); };
    svg += panel("task-chart", "Encoding task: entity preservation (EPR) against size", "EPR", true, kPanel,
                 {{points_of(rows, epr), "recovered", true}});
  }
  return svg + "</svg>\n";
}

}  // namespace bespoke::pipeline
