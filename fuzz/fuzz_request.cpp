// Fuzz target for what a client sends `bespoke serve`: the input is parsed as each endpoint's
// request body, and a chat request's json_schema is compiled and run over the input's own
// bytes (its shortest completion measured where it stops). Each must succeed or throw ApiError / bespoke::Error; a crash, sanitizer report, hang
// or other exception is a bug.
#include <string>
#include <string_view>

#include "bespoke/core/error.h"
#include "bespoke/serve/request.h"
#include "bespoke/text/json_schema_grammar.h"

namespace {

void compile_and_run(const bespoke::serve::ResponseFormat& format, std::string_view bytes) {
  using bespoke::text::JsonSchemaGrammar;
  if (format.kind == bespoke::serve::Format::kText) return;
  const JsonSchemaGrammar g = format.kind == bespoke::serve::Format::kJsonObject
                                  ? JsonSchemaGrammar::any_object()
                                  : JsonSchemaGrammar::compile(format.schema);
  JsonSchemaGrammar::State s = g.start();
  for (unsigned char b : bytes) {
    if (!g.accept(s, b)) break;
    if (g.dead_end(s)) __builtin_trap();  // an accepted byte never leads where nothing can finish
  }
  if (g.complete(s) != (g.completion_length(s, 64) == 0)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const bespoke::serve::ChatRequest r = bespoke::serve::parse_chat_request(body);
    compile_and_run(r.format, body);
  } catch (const bespoke::serve::ApiError&) {
  } catch (const bespoke::Error&) {
  }
  try {
    bespoke::serve::parse_completion_request(body);
  } catch (const bespoke::serve::ApiError&) {
  }
  try {
    bespoke::serve::parse_embedding_request(body);
  } catch (const bespoke::serve::ApiError&) {
  }
  return 0;
}
