// The demo's report.json as one self-contained HTML page: inline CSS, charts as inline SVG, no
// scripts and nothing fetched, so the file can be mailed or archived and still open as written.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bespoke::pipeline {

// `report` has title, minutes, train {steps, tokens, first_loss, final_loss, eval_loss, curve
// [[step, loss], ...]}, eval {untrained, trained, trained_constrained} (each a REPORT.json of
// `bespoke eval encoding`), export {gguf, llama_cpp_ok, max_logprob_diff, files [...]} and
// stages [{name, status, seconds}]. Any of them may be missing or null (a stage that did not
// run): its cells read "—" and its chart is left out. Elements a check looks for carry ids:
// stage-table, train-table, loss-chart, metrics-table, metrics-chart, export-table.
std::string render_report_html(const nlohmann::ordered_json& report);

}  // namespace bespoke::pipeline
