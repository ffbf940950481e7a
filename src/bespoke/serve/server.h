// `bespoke serve`: a model behind OpenAI's HTTP API, so that mnemonic (or any OpenAI client)
// points at it unchanged. Endpoints: POST /v1/chat/completions (plain and SSE streaming),
// POST /v1/completions, POST /v1/embeddings (the mean-pooled, L2-normalised last hidden
// state), GET /v1/models and /models (the daemon's health check), GET /health.
// Requests queue, and up to `parallel` of them decode together (serve/batch.h).
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
  int parallel = 0;             // sequences decoding together; 0: 4 (1 for a longrope model)
  int64_t kv_budget = 0;        // cached positions over all of them; 0: parallel × the context
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
