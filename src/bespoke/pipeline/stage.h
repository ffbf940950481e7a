// A pipeline stage works in RUN/<name>/ and leaves RUN/<name>/manifest.json behind: its
// configuration, a hash of each input, its outputs and metrics, and how long it took. A rerun
// skips a stage whose manifest matches the configuration and inputs, so an interrupted run
// picks up at the first unfinished stage.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

// What a stage's body returns: {"outputs": {...}, "metrics": {...}} (either may be absent).
using StageBody = std::function<Json(const std::string& stage_dir)>;

// Runs `body` in RUN/<name>/ unless the manifest there says it already ran with `config` on
// `inputs` (files or directories, hashed by content). Returns the manifest, with "skipped"
// true when the body did not run. The manifest is written only after the body succeeds.
Json run_stage(const std::string& run_dir, const std::string& name, const Json& config,
               const std::vector<std::string>& inputs, const StageBody& body);

// `j` indented into `path`, written atomically.
void write_json(const std::string& path, const Json& j);

// FNV-1a of a file's bytes, or of a directory's files (names and bytes, in name order), as hex.
std::string content_hash(const std::string& path);

}  // namespace bespoke::pipeline
