// `bespoke serve`: a model behind OpenAI's HTTP API, so that mnemonic (or any OpenAI client)
// points at it unchanged. Endpoints: POST /v1/chat/completions (plain and SSE streaming),
// POST /v1/completions, POST /v1/embeddings (the mean-pooled, L2-normalised last hidden
// state), GET /v1/models and /models (the daemon's health check), GET /health.
// Requests queue for the one model and decode one at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bespoke::serve {

struct ServeOptions {
  std::string model;            // a model directory or a GGUF
  std::string host = "127.0.0.1";
  int port = 8080;              // 0: any free port (printed in the startup log)
  int64_t context = 0;          // 0: the model's positions
  std::string api_key;          // non-empty: every endpoint but /health wants "Authorization: Bearer KEY"
  std::string device = "cpu";
  std::string dtype = "f32";
  size_t max_body = 8 << 20;    // bytes; a larger body is a 413
  double shutdown_seconds = 10; // after a stop, in-flight requests are cancelled past this
};

// Loads the model, listens, logs "listening on http://HOST:PORT" and a line per request
// (latency, tokens, tokens/s) on stderr, and returns once `stop` is set and the server has shut
// down. Throws Error for a model that does not load or an address it cannot bind.
void serve(const ServeOptions& options, const std::atomic<bool>& stop);

}  // namespace bespoke::serve
