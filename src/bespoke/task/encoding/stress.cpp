#include "bespoke/task/encoding/stress.h"

#include "bespoke/core/error.h"
#include "bespoke/task/encoding/entities.h"
#include "bespoke/task/encoding/python_json.h"

namespace bespoke::task::encoding {

const std::vector<StressCase>& stress_cases() {
  static const std::vector<StressCase> cases = {
      {"websocket race condition",
       "Tracked down the flaky websocket test. Each handler spawns a goroutine that reads from a channel, but the "
       "goroutine captured the ResponseWriter by pointer, so under load one goroutine could read another "
       "connection's channel and write to the wrong client. Classic race condition; the fix copies the writer "
       "per connection. Code is in internal/api/routes/ws.go:47-63.",
       {"race condition", "goroutine", "ResponseWriter", "ws.go"}},
      {"dense benchmark numbers",
       "Index benchmark on 1M rows in SQLite. B-tree: 2.3ms lookup, 156MB on disk, 4.1s to build. Covering "
       "index: 0.8ms lookup, 203MB, 6.7s. FTS5: 47.2ms lookup, 312MB, 19.5s. Partial index: 1.1ms lookup, "
       "88MB, 2.9s.",
       {"2.3ms", "0.8ms", "47.2ms", "1.1ms", "156MB", "203MB", "312MB"}},
      {"multi-topic conflation",
       "Three unrelated things today. First, FTS5 was not splitting CamelCase identifiers, so searching for "
       "'activation' missed spreadActivation; added a custom tokenizer. Second, the Dockerfile now uses a "
       "multi-stage build and the image went from 1.2GB to 340MB. Third, Jason found that launchd on the Mac "
       "Mini does not read the PATH from the shell profile, which is why the agent could not find ollama.",
       {"FTS5", "CamelCase", "Dockerfile", "multi-stage", "1.2GB", "340MB", "launchd", "Mac Mini", "Jason"}},
      {"precise error with stack trace",
       "Retrieval crashed in production: panic: runtime error: index out of range [3] with length 3. "
       "goroutine 88 [running]: spreadActivation(...) at spread.go:142, called from Retrieve(...) at "
       "agent.go:89. It happens when a memory has exactly three associations.",
       {"index out of range [3] with length 3", "spreadActivation", "spread.go:142", "Retrieve", "agent.go:89"}},
      {"ambiguous short input", "it works now", {}},
      {"foreign language technical",
       "ROCm 7.2 \xe3\x81\xab\xe4\xb8\x8a\xe3\x81\x92\xe3\x81\x9f\xe3\x82\x89 test_conv2d_backward \xe3\x81\xa8 "
       "test_batch_norm_train \xe3\x81\x8c\xe5\xa4\xb1\xe6\x95\x97\xe3\x80\x82test_flash_attention \xe3\x81\xaf"
       "\xe8\xaa\xa4\xe5\xb7\xae 2.3e-4 \xe3\x81\xa7\xe9\x80\x9a\xe3\x82\x8b\xe3\x80\x82"
       "HIP_VISIBLE_DEVICES=0 \xe3\x81\xa7\xe5\x86\x8d\xe7\x8f\xbe\xe3\x81\x99\xe3\x82\x8b\xe3\x80\x82",
       {"ROCm 7.2", "test_conv2d_backward", "test_batch_norm_train", "test_flash_attention", "2.3e-4",
        "HIP_VISIBLE_DEVICES"}},
      {"numerical config dump",
       "Config for EXP-14 run 2: base Qwen/Qwen3.5-2B, lr 3e-4 with cosine decay, best eval loss 0.6435 at "
       "step 5600, 3577 training examples and 397 held out, train split 80%.",
       {"3e-4", "0.6435", "5600", "3577", "397", "80%", "Qwen/Qwen3.5-2B"}},
  };
  return cases;
}

std::vector<text::ChatMessage> stress_messages(const StressCase& c) {
  return {{"system",
           "You encode events into memory records. Reply with one JSON object holding gist, summary, "
           "content, narrative, concepts, structured_concepts, significance, emotional_tone, outcome and "
           "salience."},
          {"user", c.input}};
}

Json score_stress(const std::vector<std::optional<Json>>& outputs) {
  const std::vector<StressCase>& cases = stress_cases();
  if (outputs.size() != cases.size()) fail(ErrorKind::kInternal, "score_stress: one output per case");
  Json out = {{"passed", 0}, {"total", cases.size()}, {"cases", Json::array()}};
  int passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    Json entry = {{"name", cases[i].name}, {"valid_json", outputs[i].has_value()}, {"missing", Json::array()}};
    if (outputs[i]) {
      const std::string dump = python_lower(python_dumps(*outputs[i], /*ensure_ascii=*/true));
      for (const std::string& term : cases[i].must_contain)
        if (dump.find(python_lower(term)) == std::string::npos) entry["missing"].push_back(term);
    }
    entry["pass"] = outputs[i].has_value() && entry["missing"].empty();
    passed += entry["pass"].get<bool>();
    out["cases"].push_back(entry);
  }
  out["passed"] = passed;
  return out;
}

}  // namespace bespoke::task::encoding
