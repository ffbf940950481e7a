// quality.svg: a progressive run's quality against size as one self-contained SVG file (inline
// style, no scripts, nothing fetched).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bespoke::pipeline {

// `quality` is quality.json's object (progressive.h). The chart #loss-chart plots each row's
// held-out loss against its parameter count: the source and the recovered rounds joined by a
// line (circles of class "recovered"), each round's loss right after its cut above it (class
// "cut"). With the encoding task, #task-chart below plots EPR the same way (recovered models).
// A value that is not a finite number is left out.
std::string render_quality_svg(const nlohmann::ordered_json& quality);

}  // namespace bespoke::pipeline
