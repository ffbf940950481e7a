// Each subcommand lives in cmd_<name>.cpp and registers itself on the app.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace bespoke::pipeline {
struct RunOptions;
}

namespace bespoke::cli {

void add_inspect(CLI::App& app);
void add_logits(CLI::App& app);
void add_generate(CLI::App& app);
void add_tokenize(CLI::App& app);  // tokenize and detokenize
void add_chat_format(CLI::App& app);
void add_export(CLI::App& app);
void add_train(CLI::App& app);
void add_teacher_logits(CLI::App& app);
void add_encoding(CLI::App& app);  // data encoding, eval encoding
void add_gate(CLI::App& app);
void add_demo(CLI::App& app);
void add_run(CLI::App& app);
void add_prune(CLI::App& app);
void add_importance(CLI::App& app);
void add_serve(CLI::App& app);

// Reads the experiment file, runs it (signals checkpoint and stop) and prints the summary.
void run_experiment_file(const std::string& path, pipeline::RunOptions options);

}  // namespace bespoke::cli
