#include "bespoke/pipeline/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "bespoke/core/html.h"
#include "bespoke/pipeline/json_fields.h"

namespace bespoke::pipeline {
namespace {

using html::escape;
using html::format;

using Json = nlohmann::ordered_json;

const char* const kDash = "\xe2\x80\x94";  // an em dash: the cell of a stage that did not run

// The three evaluations, in column order, with their bar colours.
struct Column {
  const char* key;
  const char* label;
  const char* color;
};
constexpr Column kColumns[] = {{"untrained", "untrained", "#9aa0a6"},
                               {"untrained_constrained", "untrained + constrained", "#f9ab00"},
                               {"trained", "trained", "#1a73e8"},
                               {"trained_constrained", "trained + constrained", "#188038"}};

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

// "95.0% (19/20)": a share that is only meaningful together with its count.
std::string share_of(const Json& pass, const Json& total) {
  const std::optional<double> p = number(pass), n = number(total);
  if (!p || !n || *n <= 0) return kDash;
  return format("%.1f%% (%.0f/%.0f)", *p / *n * 100, *p, *n);
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

std::string loss_chart(const Json& curve) {
  std::vector<std::pair<double, double>> points;
  if (curve.is_array()) {
    for (const Json& p : curve) {
      if (!p.is_array() || p.size() < 2) continue;
      const std::optional<double> step = number(p[0]), loss = number(p[1]);
      if (step && loss) points.emplace_back(*step, *loss);
    }
  }
  if (points.empty()) return format("<p class=\"none\">%s</p>", kDash);

  const auto [first_step, last_step] = std::minmax_element(points.begin(), points.end());
  const auto [low, high] = std::minmax_element(points.begin(), points.end(),
                                               [](const auto& a, const auto& b) { return a.second < b.second; });
  const Axis x = nice_axis(first_step->first, last_step->first), y = nice_axis(low->second, high->second);

  std::string svg = svg_open("loss-chart", "Training loss");
  frame(svg, y, "%.6g", 1);
  for (const double t : ticks(x)) {
    const double px = to_x(t, x), bottom = kHeight - kBottom;
    svg += format("<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", px, bottom, px, bottom + 5);
    svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.6g</text>", px, bottom + 18, t);
  }
  svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">step</text>",
                (kLeft + kWidth - kRight) / 2, kHeight - 12);
  svg += format("<text class=\"label\" transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">loss</text>",
                (kTop + kHeight - kBottom) / 2);

  svg += "<polyline class=\"curve\" points=\"";
  for (size_t i = 0; i < points.size(); ++i)
    svg += format(i ? " %.1f,%.1f" : "%.1f,%.1f", to_x(points[i].first, x), to_y(points[i].second, y));
  svg += "\"/>";
  // A polyline of one point draws nothing; the marker on the last point always shows.
  const auto& [step, loss] = points.back();
  svg += format("<circle class=\"last\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\">", to_x(step, x), to_y(loss, y));
  svg += format("<title>step %.0f: loss %.4f</title></circle>", step, loss);
  return svg + "</svg>";
}

// EPR, NP and SC of the evaluations side by side, 0-100%.
std::string metrics_chart(const Json& eval) {
  const char* const keys[] = {"epr", "np", "sc"};
  const char* const names[] = {"EPR", "NP", "SC"};
  constexpr int kRuns = static_cast<int>(std::size(kColumns));
  std::optional<double> value[3][kRuns];
  bool any = false;
  for (int g = 0; g < 3; ++g)
    for (int c = 0; c < kRuns; ++c) {
      value[g][c] = number(field(field(field(eval, kColumns[c].key), "metrics"), keys[g]));
      any = any || value[g][c];
    }
  if (!any) return format("<p class=\"none\">%s</p>", kDash);

  const Axis y{0, 1, 0.25};
  std::string svg = svg_open("metrics-chart", "EPR, NP and SC");
  frame(svg, y, "%.0f%%", 100);
  const double group = (kWidth - kLeft - kRight) / 3, bar = group / (kRuns + 2), bottom = kHeight - kBottom;
  for (int g = 0; g < 3; ++g) {
    const double center = kLeft + group * (g + 0.5);
    svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", center, bottom + 18,
                  names[g]);
    for (int c = 0; c < kRuns; ++c) {
      const double left = center + (c - (kRuns - 1) / 2.0) * bar * 1.1 - bar / 2;
      if (!value[g][c]) {
        svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", left + bar / 2,
                      bottom - 4, kDash);
        continue;
      }
      const double v = std::clamp(*value[g][c], 0.0, 1.0), top = to_y(v, y);
      svg += format("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" ", left, top, bar, bottom - top);
      svg += format("fill=\"%s\"><title>%s %s: ", kColumns[c].color, names[g], kColumns[c].label);
      svg += percent(*value[g][c]) + "</title></rect>";
      svg += format("<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", left + bar / 2, top - 4);
      svg += percent(*value[g][c]) + "</text>";
    }
  }
  double left = kLeft;
  for (int c = 0; c < kRuns; ++c) {  // each entry as wide as its label (about 6.5 px a character)
    svg += format("<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>", left, kHeight - 22,
                  kColumns[c].color);
    svg += format("<text class=\"label\" x=\"%.1f\" y=\"%.1f\">%s</text>", left + 18, kHeight - 12, kColumns[c].label);
    left += 34 + 6.5 * std::char_traits<char>::length(kColumns[c].label);
  }
  return svg + "</svg>";
}

// ---- sections ----

std::string stages_section(const Json& stages) {
  std::string html =
      "<section id=\"stages\"><h2>Stages</h2><table id=\"stage-table\">"
      "<thead><tr><th>stage</th><th>status</th><th class=\"num\">seconds</th></tr></thead><tbody>";
  bool any = false;
  if (stages.is_array()) {
    for (const Json& s : stages) {
      const Json& status = field(s, "status");
      const char* cls = status == "done" ? "ok" : status == "failed" ? "bad" : "";
      html += "<tr><td>" + text(field(s, "name")) + "</td><td class=\"" + cls + "\">" + text(status) +
              "</td><td class=\"num\">" + fixed(field(s, "seconds"), "%.1f") + "</td></tr>";
      any = true;
    }
  }
  if (!any) html += format("<tr><td>%s</td><td>%s</td><td class=\"num\">%s</td></tr>", kDash, kDash, kDash);
  return html + "</tbody></table></section>";
}

std::string train_section(const Json& train, const Json& tokenizer) {
  const std::pair<const char*, std::string> rows[] = {
      {"vocabulary (learned)", fixed(field(tokenizer, "vocab"), "%.0f")},
      {"tokens per message", fixed(field(tokenizer, "tokens_per_message"), "%.0f") + " (base vocabulary: " +
                                 fixed(field(tokenizer, "tokens_per_message_base"), "%.0f") + ")"},
      {"steps", fixed(field(train, "steps"), "%.0f")},
      {"tokens", fixed(field(train, "tokens"), "%.0f")},
      {"first loss", fixed(field(train, "first_loss"), "%.4f")},
      {"final loss", fixed(field(train, "final_loss"), "%.4f")},
      {"eval loss", fixed(field(train, "eval_loss"), "%.4f")}};
  std::string html = "<section id=\"train\"><h2>Training</h2><table id=\"train-table\"><tbody>";
  for (const auto& [name, value] : rows)
    html += std::string("<tr><th>") + name + "</th><td class=\"num\">" + value + "</td></tr>";
  return html + "</tbody></table>" + loss_chart(field(train, "curve")) + "</section>";
}

std::string eval_section(const Json& eval) {
  using Cell = std::string (*)(const Json& report);
  const std::pair<const char*, Cell> rows[] = {
      {"valid JSON", [](const Json& r) { return share_of(field(r, "valid_json"), field(r, "n")); }},
      {"SC", [](const Json& r) { return percent(number(field(field(r, "metrics"), "sc"))); }},
      {"EPR", [](const Json& r) { return percent(number(field(field(r, "metrics"), "epr"))); }},
      {"NP", [](const Json& r) { return percent(number(field(field(r, "metrics"), "np"))); }},
      {"NP dense", [](const Json& r) { return percent(number(field(field(r, "metrics"), "np_dense"))); }},
      {"FR", [](const Json& r) { return percent(number(field(field(r, "metrics"), "fr"))); }},
      {"FR pooled", [](const Json& r) { return percent(number(field(field(r, "metrics"), "fr_pooled"))); }},
      {"entities written", [](const Json& r) { return fixed(field(field(r, "metrics"), "entities_out"), "%.0f"); }},
      {"TED failures", [](const Json& r) { return fixed(field(field(r, "metrics"), "ted_failures"), "%.0f"); }},
      {"MIH",
       [](const Json& r) {
         return share_of(field(field(r, "metrics"), "mih_pass"), field(field(r, "metrics"), "mih_total"));
       }},
      {"CCS",
       [](const Json& r) {
         return share_of(field(field(r, "metrics"), "ccs_pass"), field(field(r, "metrics"), "ccs_pairs"));
       }},
      {"stress", [](const Json& r) {
         return share_of(field(field(r, "stress"), "passed"), field(field(r, "stress"), "total"));
       }}};

  std::string html = "<section id=\"eval\"><h2>Evaluation</h2><table id=\"metrics-table\"><thead><tr><th>metric</th>";
  for (const Column& c : kColumns) html += std::string("<th class=\"num\">") + c.label + "</th>";
  html += "</tr></thead><tbody>";
  for (const auto& [name, cell] : rows) {
    html += std::string("<tr><th>") + name + "</th>";
    for (const Column& c : kColumns) html += "<td class=\"num\">" + cell(field(eval, c.key)) + "</td>";
    html += "</tr>";
  }
  html +=
      "</tbody></table><p class=\"note\">FR, FR pooled and TED failures: lower is better; entities written is a count; "
      "the rest: higher is better.</p>";
  return html + metrics_chart(eval) + "</section>";
}

std::string export_section(const Json& exp) {
  std::string html =
      "<section id=\"export\"><h2>Export</h2><p>llama.cpp loads and agrees: " + yes_no(field(exp, "llama_cpp_ok")) +
      "; max |&Delta; log p|: " + fixed(field(exp, "max_logprob_diff"), "%.2e") + "</p>";
  html +=
      "<table id=\"export-table\"><thead><tr><th>file</th><th>type</th><th class=\"num\">size (MB)</th>"
      "<th class=\"num\">max |&Delta; log p|</th><th class=\"num\">llama.cpp decode tok/s</th>"
      "<th class=\"num\">Bespoke decode tok/s</th><th>ok</th></tr></thead><tbody>";
  // Without per-file details the bare list of written files still says what was exported.
  Json files = field(exp, "files");
  if (!files.is_array() || files.empty()) {
    files = Json::array();
    const Json& gguf = field(exp, "gguf");
    if (gguf.is_array())
      for (const Json& path : gguf) files.push_back({{"path", path}});
  }
  for (const Json& f : files) {
    const std::optional<double> bytes = number(field(f, "bytes"));
    html += "<tr><td>" + text(field(f, "path")) + "</td><td>" + text(field(f, "type")) + "</td><td class=\"num\">" +
            (bytes ? format("%.2f", *bytes / 1e6) : kDash) + "</td><td class=\"num\">" +
            fixed(field(f, "max_logprob_diff"), "%.2e") + "</td><td class=\"num\">" +
            fixed(field(f, "llama_cpp_tokens_per_s"), "%.1f") + "</td><td class=\"num\">" +
            fixed(field(f, "bespoke_tokens_per_s"), "%.1f") + "</td><td>" + yes_no(field(f, "llama_cpp_ok")) +
            "</td></tr>";
  }
  if (files.empty()) {
    html += "<tr>";
    for (int i = 0; i < 7; ++i) html += format("<td>%s</td>", kDash);
    html += "</tr>";
  }
  return html + "</tbody></table></section>";
}

std::string checks_section(const Json& checks) {
  const std::pair<const char*, const char*> rows[] = {
      {"loss_fell", "training loss fell"},
      {"grammar_sc", "SC 100% under the grammar"},
      {"llama_cpp_agrees", "llama.cpp agrees on every exported file"},
      {"within_10_minutes", "within 10 minutes"},
      {"trained_beats_untrained", "trained beats untrained (both under the grammar)"}};
  std::string html = "<section id=\"checks\"><h2>Checks</h2><table id=\"checks-table\"><tbody>";
  const Json& built_in = field(checks, "by_construction");
  const auto by_construction = [&](const char* key) {
    if (!built_in.is_array()) return false;
    for (const Json& k : built_in)
      if (k == key) return true;
    return false;
  };
  for (const auto& [key, label] : rows) {
    html += std::string("<tr><th>") + label + "</th><td>" + yes_no(field(checks, key));
    if (by_construction(key)) html += " <span class=\"note by-construction\">by construction of the grammar</span>";
    html += "</td></tr>";
  }
  const Json& comparison = field(checks, "trained_vs_untrained");
  if (comparison.is_object())
    for (const auto& [metric, verdict] : comparison.items())
      html += "<tr><td class=\"note\">" + escape(metric) + "</td><td class=\"note\">" + text(verdict) + "</td></tr>";
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
svg .curve { fill: none; stroke: #1a73e8; stroke-width: 2; stroke-linejoin: round; }
svg .last { fill: #1a73e8; }
)";

}  // namespace

std::string render_report_html(const nlohmann::ordered_json& report) {
  const Json& title_field = field(report, "title");
  const std::string title = title_field.is_string() ? escape(title_field.get<std::string>()) : "Bespoke demo";
  const std::optional<double> minutes = number(field(report, "minutes"));

  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      // An empty icon keeps the browser from asking for /favicon.ico.
      "<link rel=\"icon\" href=\"data:,\">";
  html += "<title>" + title + "</title><style>" + kStyle + "</style></head><body>\n";
  html += "<header><h1 id=\"title\">" + title + "</h1><p class=\"minutes\" id=\"minutes\">" +
          (minutes ? format("%.1f minutes in all", *minutes) : kDash) + "</p></header>\n";
  html += stages_section(field(report, "stages")) + "\n";
  html += train_section(field(report, "train"), field(report, "tokenizer")) + "\n";
  html += eval_section(field(report, "eval")) + "\n";
  html += export_section(field(report, "export")) + "\n";
  html += checks_section(field(report, "checks")) + "\n";
  return html + "</body></html>\n";
}

}  // namespace bespoke::pipeline
