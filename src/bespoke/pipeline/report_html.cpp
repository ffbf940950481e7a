#include "bespoke/pipeline/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fstream>
#include <sstream>

#include "bespoke/core/html.h"
#include "bespoke/pipeline/quality_chart.h"
#include "bespoke/pipeline/json_fields.h"

namespace bespoke::pipeline {
namespace {

using html::escape;
using html::format;

using Json = nlohmann::ordered_json;

const char* const kDash = "\xe2\x80\x94";  // an em dash: the cell of a stage that did not run

std::string text(const Json& v) {
  return v.is_string() ? escape(v.get<std::string>()) : kDash;
}

std::string fixed(const Json& v, const char* spec) {
  const std::optional<double> d = number(v);
  return d ? format(spec, *d) : kDash;
}

std::string percent(const std::optional<double>& share) {
  return share ? format("%.1f%%", *share * 100) : kDash;
}

std::string yes_no(const Json& v) {
  if (!v.is_boolean()) return kDash;
  return v.get<bool>() ? "<span class=\"ok\">yes</span>" : "<span class=\"bad\">no</span>";
}

// ---- charts ----

constexpr double kWidth = 640, kHeight = 320, kLeft = 64, kRight = 20, kTop = 44, kBottom = 56;

struct Axis {
  double lo, hi, step;
};

// [lo, hi] widened to round ticks (1, 2 or 5 times a power of ten), about five of them. A single
// value (one point, a flat curve) gets a band around it so that it still has a scale; the band
// stops at zero for values that cannot be negative (steps, losses).
Axis nice_axis(double lo, double hi) {
  if (hi <= lo) {
    const double pad = lo != 0 ? std::abs(lo) * 0.1 : 1;
    lo = lo >= 0 ? std::max(0.0, lo - pad) : lo - pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
  // The slack keeps a bound that is already a tick from gaining one more through rounding.
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}

std::vector<double> ticks(const Axis& a) {
  std::vector<double> out;
  const long n = std::lround((a.hi - a.lo) / a.step);
  for (long i = 0; i <= n; ++i) {
    const double v = a.lo + static_cast<double>(i) * a.step;
    out.push_back(std::abs(v) < a.step * 1e-6 ? 0.0 : v);  // no "-0" label
  }
  return out;
}

double to_x(double v, const Axis& a) {
  return kLeft + (v - a.lo) / (a.hi - a.lo) * (kWidth - kLeft - kRight);
}
double to_y(double v, const Axis& a) {
  return kHeight - kBottom - (v - a.lo) / (a.hi - a.lo) * (kHeight - kTop - kBottom);
}

std::string svg_open(const char* id, const char* title) {
  std::string svg = format("<svg id=\"%s\" class=\"chart\" ", id);
  svg += format("viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" ", kWidth, kHeight, kWidth, kHeight);
  svg += format("role=\"img\" aria-labelledby=\"%s-title\">", id);
  svg += format("<title id=\"%s-title\">%s</title>", id, title);
  svg += format("<text class=\"chart-title\" x=\"%.1f\" y=\"24\" text-anchor=\"middle\">%s</text>", kWidth / 2, title);
  return svg;
}

// Horizontal grid lines with their labels, and the two axis lines.
void frame(std::string& svg, const Axis& y, const char* label_spec, double label_scale) {
  for (const double t : ticks(y)) {
    const double py = to_y(t, y);
    svg += format("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft, py, kWidth - kRight,
                  py);
    svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", kLeft - 8, py + 4);
    svg += format(label_spec, t * label_scale) + "</text>";
  }
  const double bottom = kHeight - kBottom;
  svg += format("<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft, bottom,
                kWidth - kRight, bottom);
  svg += format("<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", kLeft, kTop, kLeft, bottom);
}


// ---- charts ----

struct Series {
  std::string label, color;
  std::vector<std::pair<double, double>> points;
};

std::vector<std::pair<double, double>> points_of(const Json& curve) {
  std::vector<std::pair<double, double>> points;
  if (!curve.is_array()) return points;
  for (const Json& p : curve) {
    if (!p.is_array() || p.size() < 2) continue;
    const std::optional<double> x = number(p[0]), y = number(p[1]);
    if (x && y) points.emplace_back(*x, *y);
  }
  return points;
}

// Curves on one pair of axes, each with its colour and a legend entry; `log_x` spaces the x axis
// by powers of ten (token counts that grow geometrically).
std::string line_chart(const char* id, const char* title, const std::vector<Series>& series, const char* x_label,
                       const char* y_label, bool log_x) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  const auto xv = [&](double x) { return log_x ? std::log10(std::max(x, 1.0)) : x; };
  for (const Series& s : series)
    for (const auto& [x, y] : s.points) {
      x_lo = std::min(x_lo, xv(x)), x_hi = std::max(x_hi, xv(x));
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  if (!std::isfinite(x_lo)) return format("<p class=\"none\">%s</p>", kDash);
  const Axis x = nice_axis(x_lo, x_hi), y = nice_axis(y_lo, y_hi);
  std::string svg = svg_open(id, title);
  frame(svg, y, "%.4g", 1);
  for (const double t : ticks(x)) {
    const double px = to_x(t, x), bottom = kHeight - kBottom;
    svg += format("<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", px, bottom, px, bottom + 5);
    svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4g</text>", px, bottom + 18,
                  log_x ? std::pow(10, t) : t);
  }
  svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                (kLeft + kWidth - kRight) / 2, kHeight - 26, x_label);
  svg += format("<text class=\"label\" transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>",
                (kTop + kHeight - kBottom) / 2, y_label);
  double legend_x = kLeft;
  for (const Series& s : series) {
    if (s.points.empty()) continue;
    svg += format("<polyline class=\"series\" stroke=\"%s\" points=\"", s.color.c_str());
    for (size_t i = 0; i < s.points.size(); ++i)
      svg += format(i ? " %.1f,%.1f" : "%.1f,%.1f", to_x(xv(s.points[i].first), x), to_y(s.points[i].second, y));
    svg += "\"/>";
    const auto& [lx, ly] = s.points.back();
    svg += format("<circle fill=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>%s: %.4g at %.4g</title></circle>",
                  s.color.c_str(), to_x(xv(lx), x), to_y(ly, y), escape(s.label).c_str(), ly, lx);
    svg += format("<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>", legend_x, kHeight - 14,
                  s.color.c_str());
    svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\">%s</text>", legend_x + 14, kHeight - 5,
                  escape(s.label).c_str());
    legend_x += 24 + 6.5 * static_cast<double>(s.label.size());
  }
  return svg + "</svg>";
}

// ---- sections ----

std::string stages_section(const Json& stages, const Json& ledger) {
  std::string html =
      "<section id=\"stages\"><h2>Stages</h2><table id=\"stage-table\"><thead><tr><th>stage</th><th>status</th>"
      "<th class=\"num\">seconds</th><th class=\"num\">device-hours (all attempts)</th><th class=\"num\">cost</th>"
      "</tr></thead><tbody>";
  bool any = false;
  if (stages.is_array()) {
    for (const Json& s : stages) {
      const Json& spent = field(field(ledger, "stages"), s.value("name", std::string()).c_str());
      html += "<tr><td>" + text(field(s, "name")) + "</td><td>" + text(field(s, "status")) + "</td><td class=\"num\">" +
              fixed(field(s, "seconds"), "%.1f") + "</td><td class=\"num\">" +
              fixed(field(spent, "device_hours"), "%.4f") + "</td><td class=\"num\">" +
              fixed(field(spent, "cost"), "%.2f") + "</td></tr>";
      any = true;
    }
  }
  if (!any) html += format("<tr><td colspan=\"5\">%s</td></tr>", kDash);
  html += "</tbody></table><p id=\"cost\">Spent: " + fixed(field(ledger, "cost"), "%.2f") + " of a cap of " +
          fixed(field(ledger, "cost_cap"), "%.2f") + " (" + fixed(field(ledger, "device_hours"), "%.4f") +
          " device-hours at " + fixed(field(ledger, "price_per_hour"), "%.2f") + " an hour; a cap of 0 is none)</p>";
  return html + "</section>";
}

std::string feasibility_section(const Json& feasibility) {
  std::string html =
      "<section id=\"phase0\"><h2>Phase 0: feasibility</h2><table id=\"phase0-table\"><thead><tr>"
      "<th class=\"num\">rank</th><th>candidate</th><th>class</th><th>prunable</th><th class=\"num\">parameters</th>"
      "<th class=\"num\">target parameters</th><th class=\"num\">device-hours</th><th class=\"num\">cost</th>"
      "<th>within cap</th><th class=\"num\">one-shot loss</th></tr></thead><tbody>";
  const Json& rows = field(feasibility, "candidates");
  if (rows.is_array())
    for (const Json& c : rows)
      html += "<tr><td class=\"num\">" + fixed(field(c, "rank"), "%.0f") + "</td><td>" + text(field(c, "name")) +
              "</td><td>" + text(field(c, "class")) + "</td><td>" + yes_no(field(c, "supported")) +
              "</td><td class=\"num\">" + fixed(field(c, "params"), "%.0f") + "</td><td class=\"num\">" +
              fixed(field(field(c, "target"), "params"), "%.0f") + "</td><td class=\"num\">" +
              fixed(field(c, "total_hours"), "%.4g") + "</td><td class=\"num\">" + fixed(field(c, "total_cost"), "%.2f") +
              "</td><td>" + yes_no(field(c, "within_cap")) + "</td><td class=\"num\">" +
              fixed(field(c, "one_shot_loss"), "%.4f") + "</td></tr>";
  return html + "</tbody></table></section>";
}

std::string curves_section(const Json& report) {
  const std::pair<const char*, const char*> phases[] = {
      {"pretrain", "#9aa0a6"}, {"finetune", "#1a73e8"}, {"recover", "#188038"}};
  std::vector<Series> series;
  for (const auto& [name, color] : phases) {
    const Json& m = std::string(name) == "pretrain" ? field(field(report, "parent"), "pretrain") : field(report, name);
    series.push_back({name, color, points_of(field(m, "curve"))});
  }
  return "<section id=\"curves\"><h2>Training loss per phase</h2>" +
         line_chart("phase-loss-chart", "Training loss per phase", series, "step", "loss", false) + "</section>";
}

std::string quality_section(const Json& prune) {
  const Json& quality = field(prune, "quality");
  std::string html = "<section id=\"quality\"><h2>Phase 2: quality against size (" + text(field(prune, "method")) +
                     ")</h2><table id=\"quality-table\"><thead><tr><th>model</th><th class=\"num\">parameters</th>"
                     "<th class=\"num\">share</th><th class=\"num\">loss after the cut</th>"
                     "<th class=\"num\">loss recovered</th></tr></thead><tbody>";
  const Json& rows = field(quality, "rows");
  if (rows.is_array())
    for (const Json& r : rows)
      html += "<tr><td>" + (field(r, "target").is_string() ? text(field(r, "target")) : std::string("base")) +
              "</td><td class=\"num\">" + fixed(field(r, "params"), "%.0f") + "</td><td class=\"num\">" +
              percent(number(field(r, "share"))) + "</td><td class=\"num\">" + fixed(field(r, "loss_pruned"), "%.4f") +
              "</td><td class=\"num\">" + fixed(field(r, "loss"), "%.4f") + "</td></tr>";
  html += "</tbody></table>";
  if (rows.is_array() && !rows.empty()) html += "<div id=\"quality-chart\">" + render_quality_svg(quality) + "</div>";
  return html + "</section>";
}

// `css` (rules "a,b{...}") with each selector prefixed by `scope`, so that a page's style inlined
// here applies to that page's part alone.
std::string scoped_css(const std::string& css, const std::string& scope) {
  std::string out;
  for (size_t at = 0; at < css.size();) {
    const size_t open = css.find('{', at), close = css.find('}', open);
    if (open == std::string::npos || close == std::string::npos) break;
    std::stringstream selectors(css.substr(at, open - at));
    std::string joined;
    for (std::string sel; std::getline(selectors, sel, ',');) joined += (joined.empty() ? "" : ",") + scope + " " + sel;
    out += joined + css.substr(open, close - open + 1);
    at = close + 1;
  }
  return out;
}

// The importance page's heatmaps, inlined with their style, scoped to their section.
std::string importance_section(const Json& importance) {
  std::string html = "<section id=\"importance\"><h2>Phase 1: importance</h2>";
  const Json& path = field(importance, "html");
  std::ifstream in(path.is_string() ? path.get<std::string>() : std::string());
  if (!in) return html + format("<p class=\"none\">%s</p></section>", kDash);
  std::stringstream page;
  page << in.rdbuf();
  const std::string s = page.str();
  const size_t body = s.find("<body>"), end = s.rfind("</body>");
  if (body == std::string::npos || end == std::string::npos) return html + "</section>";
  const size_t style = s.find("<style>"), style_end = s.find("</style>");
  if (style != std::string::npos && style_end != std::string::npos && style_end < body)
    html += "<style>" + scoped_css(s.substr(style + 7, style_end - style - 7), "#importance-charts") + "</style>";
  return html + "<div id=\"importance-charts\">" + s.substr(body + 6, end - body - 6) + "</div></section>";
}

std::string gate_section(const Json& gate) {
  std::string html = "<section id=\"gate\"><h2>Gate</h2><p id=\"verdict\">Verdict: <b>" + text(field(gate, "verdict")) +
                     "</b> (worse on " + fixed(field(gate, "worse"), "%.0f") + " metrics; allowed " +
                     fixed(field(gate, "max_worse"), "%.0f") + "; baseline: " + text(field(gate, "baseline_from")) +
                     ")</p><table id=\"gate-table\"><thead><tr><th>metric</th><th class=\"num\">pruned</th>"
                     "<th class=\"num\">baseline</th><th>worse</th></tr></thead><tbody>";
  const Json& rows = field(gate, "table");
  if (rows.is_array())
    for (const Json& r : rows)
      html += "<tr><td>" + text(field(r, "metric")) + "</td><td class=\"num\">" + fixed(field(r, "candidate"), "%.4g") +
              "</td><td class=\"num\">" + fixed(field(r, "baseline"), "%.4g") + "</td><td>" +
              (field(r, "worse").is_boolean() && field(r, "worse").get<bool>() ? "<span class=\"bad\">worse</span>" : "") +
              "</td></tr>";
  const Json& hard = field(gate, "hard_failures");
  if (hard.is_array() && !hard.empty()) html += "<p class=\"note\">hard targets missed: " + escape(hard.dump()) + "</p>";
  return html + "</tbody></table></section>";
}

std::string lottery_section(const Json& lottery) {
  std::string html = "<section id=\"lottery\"><h2>Phase 4: lottery-ticket arms</h2>";
  const Json& arms = field(lottery, "arms");
  if (!arms.is_object()) return html + format("<p class=\"none\">%s</p></section>", kDash);
  const std::map<std::string, std::string> colors = {{"A", "#188038"}, {"B", "#d93025"}, {"C", "#f9ab00"}, {"D", "#1a73e8"}};
  std::vector<Series> series;
  html += "<table id=\"lottery-table\"><thead><tr><th>arm</th><th>what</th><th class=\"num\">rate</th>"
          "<th class=\"num\">final eval loss</th><th class=\"num\">sd</th><th class=\"num\">tokens</th></tr></thead><tbody>";
  for (const auto& [arm, a] : arms.items()) {
    html += "<tr><td>" + escape(arm) + "</td><td>" + text(field(a, "description")) +
            (field(a, "skipped").is_string() ? " (skipped: " + text(field(a, "skipped")) + ")" : std::string()) +
            "</td><td class=\"num\">" + fixed(field(a, "lr"), "%.3g") + "</td><td class=\"num\">" +
            fixed(field(a, "final_eval_loss"), "%.4f") + "</td><td class=\"num\">" +
            fixed(field(a, "final_eval_loss_sd"), "%.4f") + "</td><td class=\"num\">" + fixed(field(a, "tokens"), "%.0f") +
            "</td></tr>";
    const Json& seeds = field(a, "seeds");
    if (seeds.is_array())
      for (const Json& s : seeds)
        series.push_back({arm + " seed " + field(s, "seed").dump(), colors.count(arm) ? colors.at(arm) : "#5f6368",
                          points_of(field(s, "curve"))});
  }
  const Json& mult = field(lottery, "token_multiplier");
  series.push_back({"B to k x", "#a142f4", points_of(field(mult, "b_curve"))});
  html += "</tbody></table><p id=\"multiplier\">Tokens B needs to reach A's final loss: " + text(field(mult, "text")) +
          "; A beats B at equal tokens: " + yes_no(field(lottery, "a_beats_b")) + " (B &minus; A: " +
          fixed(field(lottery, "a_minus_b"), "%.4f") + ")</p>";
  return html + line_chart("lottery-chart", "Eval loss against tokens, per arm and seed", series, "tokens", "eval loss", true) +
         "</section>";
}

std::string export_section(const Json& exp) {
  std::string html = "<section id=\"export\"><h2>Phase 5: export</h2><p>llama.cpp loads and agrees on every file: " +
                     yes_no(field(exp, "llama_cpp_ok")) + "</p>";
  html +=
      "<table id=\"export-table\"><thead><tr><th>model</th><th>type</th><th class=\"num\">MB</th>"
      "<th class=\"num\">max |&Delta; log p|</th><th class=\"num\">load s</th><th class=\"num\">peak MB</th>"
      "<th class=\"num\">llama.cpp tok/s</th><th>ok</th></tr></thead><tbody>";
  for (const char* which : {"base", "pruned"}) {
    const Json& files = field(field(exp, which), "files");
    if (!files.is_array()) continue;
    for (const Json& f : files) {
      const std::optional<double> bytes = number(field(f, "bytes")), peak = number(field(f, "peak_rss_bytes"));
      html += std::string("<tr><td>") + which + "</td><td>" + text(field(f, "type")) + "</td><td class=\"num\">" +
              (bytes ? format("%.2f", *bytes / 1e6) : kDash) + "</td><td class=\"num\">" +
              fixed(field(f, "max_logprob_diff"), "%.2e") + "</td><td class=\"num\">" +
              fixed(field(f, "load_seconds"), "%.3f") + "</td><td class=\"num\">" +
              (peak ? format("%.1f", *peak / 1e6) : kDash) + "</td><td class=\"num\">" +
              fixed(field(f, "tokens_per_s"), "%.1f") + "</td><td>" + yes_no(field(f, "llama_cpp_ok")) + "</td></tr>";
    }
  }
  html += "</tbody></table><table id=\"bespoke-table\"><thead><tr><th>in Bespoke</th><th class=\"num\">load s</th>"
          "<th class=\"num\">resident MB added</th><th class=\"num\">tok/s</th></tr></thead><tbody>";
  for (const char* which : {"base", "pruned"}) {
    const Json& b = field(field(exp, which), "bespoke");
    const std::optional<double> rss = number(field(b, "rss_bytes"));
    html += std::string("<tr><td>") + which + "</td><td class=\"num\">" + fixed(field(b, "load_seconds"), "%.3f") +
            "</td><td class=\"num\">" + (rss ? format("%.1f", *rss / 1e6) : kDash) + "</td><td class=\"num\">" +
            fixed(field(b, "tokens_per_s"), "%.1f") + "</td></tr>";
  }
  html += "</tbody></table><p id=\"speedup\">Decode speed-up of the pruned GGUF over the base's in llama.cpp:";
  const Json& speedup = field(exp, "speedup");
  if (speedup.is_object())
    for (const auto& [type, v] : speedup.items()) html += " " + escape(type) + " " + fixed(v, "%.2f") + "&times;";
  return html + "</p></section>";
}

std::string checks_section(const Json& checks) {
  if (!checks.is_object()) return "";
  std::string html = "<section id=\"checks\"><h2>Checks</h2><table id=\"checks-table\"><tbody>";
  for (const auto& [name, v] : checks.items())
    html += "<tr><th>" + escape(name) + "</th><td>" + (v.is_boolean() ? yes_no(v) : escape(v.dump())) + "</td></tr>";
  return html + "</tbody></table></section>";
}

const char* const kStyle = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #202124; max-width: 960px;
       margin: 2em auto; padding: 0 1em; }
h1 { margin-bottom: 0.2em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #dadce0; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #ececec; text-align: left; }
thead th { border-bottom: 2px solid #dadce0; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #188038; }
.bad { color: #d93025; font-weight: 600; }
.none, .note, .minutes { color: #5f6368; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 1em 0; }
svg text { font: 12px system-ui, sans-serif; fill: #3c4043; }
svg .chart-title { font-size: 15px; font-weight: 600; }
svg .grid { stroke: #ececec; }
svg .axis { stroke: #5f6368; }
svg .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
)";

}  // namespace

std::string render_report_html(const nlohmann::ordered_json& report) {
  const Json& title_field = field(report, "title");
  const std::string title = title_field.is_string() ? escape(title_field.get<std::string>()) : "Bespoke run";
  const std::optional<double> minutes = number(field(report, "minutes"));
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      // An empty icon keeps the browser from asking for /favicon.ico.
      "<link rel=\"icon\" href=\"data:,\">";
  html += "<title>" + title + "</title><style>" + kStyle + "</style></head><body>\n";
  html += "<header><h1 id=\"title\">" + title + "</h1><p class=\"minutes\" id=\"minutes\">" +
          (minutes ? format("%.1f minutes in all", *minutes) : kDash) + "</p></header>\n";
  html += checks_section(field(report, "checks")) + "\n";
  html += stages_section(field(report, "stages"), field(report, "ledger")) + "\n";
  html += feasibility_section(field(report, "feasibility")) + "\n";
  html += curves_section(report) + "\n";
  html += importance_section(field(report, "importance")) + "\n";
  html += quality_section(field(report, "prune")) + "\n";
  html += gate_section(field(report, "gate")) + "\n";
  html += lottery_section(field(report, "lottery")) + "\n";
  html += export_section(field(report, "export")) + "\n";
  return html + "</body></html>\n";
}

}  // namespace bespoke::pipeline
