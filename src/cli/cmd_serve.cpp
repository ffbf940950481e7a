// bespoke serve MODEL [--host 127.0.0.1] [--port 8080] [--ctx N] [--parallel N] [--kv-budget N] [--api-key KEY]
//                    [--device D] [--dtype T]
#include <csignal>
#include <memory>

#include "bespoke/serve/server.h"
#include "commands.h"

namespace bespoke::cli {
namespace {

std::atomic<bool> serve_stop{false};
void request_serve_stop(int) {
  serve_stop.store(true);
}

}  // namespace

void add_serve(CLI::App& app) {
  auto o = std::make_shared<serve::ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "The model behind OpenAI's HTTP API (chat, completions, embeddings, models), structured output enforced");
  cmd->add_option("MODEL", o->model, "a model directory or a GGUF file")->required();
  cmd->add_option("--host", o->host, "address to bind (another than 127.0.0.1 exposes the model)")->capture_default_str();
  cmd->add_option("--port", o->port, "port; 0 picks a free one and logs it")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--ctx", o->context, "context window in tokens, prompt and completion together (0: the model's)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--parallel", o->parallel,
                  "sequences that decode together, one batch per step (0: 4, or 1 for a longrope model)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--kv-budget", o->kv_budget,
                  "cached positions shared by the batch; a request waits rather than exceed it (0: parallel x context)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--api-key", o->api_key, "require Authorization: Bearer KEY on every endpoint but /health");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "f32, bf16 or f16")->capture_default_str();
  cmd->add_option("--max-body", o->max_body, "largest request body in bytes (larger: 413)")->capture_default_str();
  cmd->add_option("--shutdown-seconds", o->shutdown_seconds,
                  "on SIGTERM, how long running requests may finish before they are cancelled")
      ->capture_default_str();
  cmd->callback([o] {
    std::signal(SIGINT, request_serve_stop);
    std::signal(SIGTERM, request_serve_stop);
    serve::serve(*o, serve_stop);
  });
}

}  // namespace bespoke::cli
