// Importance as one self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched.
// Elements a check looks for carry ids: head-heatmap (layer x query head, each layer scaled to
// its own maximum, since heads are ranked within a layer), entropy-heatmap, ffn-chart (each
// layer's FFN scores as min, quartiles and max), hidden-chart (hidden channels' scores, sorted),
// layer-chart (the layer score per layer), skip-chart (when skip-loss was measured) and
// profile-table.
#pragma once

#include <string>

#include "bespoke/model/spec.h"
#include "bespoke/prune/importance.h"

namespace bespoke::prune {

std::string render_importance_html(const Importance& importance, const model::ModelSpec& spec);

// Writes DIR/importance.html atomically. Throws Error(kIo).
void write_importance_html(const std::string& dir, const Importance& importance, const model::ModelSpec& spec);

}  // namespace bespoke::prune
