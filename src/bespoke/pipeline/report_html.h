// A run's report.json (run.h) as one self-contained HTML page: inline CSS, charts as inline SVG,
// no scripts and nothing fetched, so the file can be mailed or archived and still open as written.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bespoke::pipeline {

// Sections, each with the ids a check looks for: checks (#checks-table, when the report has
// checks), stages (#stage-table, with the ledger's cost), Phase 0 (#phase0-table), training loss
// per phase (#phase-loss-chart), the importance heatmaps (#importance-charts, inlined from the
// importance stage's page), quality against size (#quality-table, #quality-chart), the gate
// (#gate-table), the lottery arms (#lottery-table, #lottery-chart) and the export
// (#export-table, #bespoke-table, #speedup). A section that did not run reads "—".
std::string render_report_html(const nlohmann::ordered_json& report);

}  // namespace bespoke::pipeline
