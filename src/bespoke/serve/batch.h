// Continuous batching: up to `parallel` answers decode together, one token each per forward
// pass. A new request is prefilled alone and joins the batch at the next step, an answer that
// ends leaves it at once, so a long answer never holds a short one back. The batch's caches
// are one KvCache whose rows are aligned on the right (model/kv_cache.h), within a budget of
// cached slots that a request waits for rather than exceed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bespoke/model/kv_cache.h"
#include "bespoke/serve/generation.h"

namespace bespoke::serve {

class Batcher {
 public:
  // `kv_slots`: the most cached positions, summed over the batch's rows (padding included),
  // 0 for parallel × the context. Throws Error(kUnsupported) for parallel > 1 on a model whose
  // rope changes with the sequence's length (longrope).
  Batcher(ServedModel& model, int parallel, int64_t kv_slots);
  ~Batcher();  // cancels what still decodes

  // Decodes `seq` among the others and returns once it has ended. Its on_text runs on the
  // decoding thread. It ends at the next step once `cancel` is set (a stop) or `alive`, asked
  // by the waiting caller every `poll` seconds, returns false (a client gone).
  Generation run(Sequence& seq, const std::atomic<bool>& cancel, const std::function<bool()>& alive,
                 double poll = 0.2);

  // Runs `f` between decoding steps (another use of the model: embeddings).
  void exclusive(const std::function<void()>& f);

 private:
  struct Job {
    Sequence* seq;
    const std::atomic<bool>* cancel;
    std::atomic<bool> gone{false};  // the client
    std::vector<int64_t> tokens;    // prompt and answer so far (a longrope switch refeeds them)
    int64_t next = -1;              // the token to feed next
    bool done = false;
    bool ended() const { return *cancel || gone; }
  };
  void loop();
  void admit(const std::shared_ptr<Job>& job);  // prefills it alone and joins it to the batch
  void decode_step();                           // one token for every row
  bool take(Job& job, const torch::Tensor& logits);  // false: it has ended
  bool fits(const Job& job) const;
  void finish(Job& job);

  ServedModel& model_;
  const int parallel_;
  const int64_t kv_slots_;
  const torch::Device device_;
  std::mutex mutex_;        // the queue and `done`
  std::mutex forward_;      // the model, between steps
  std::condition_variable wake_, finished_;
  std::deque<std::shared_ptr<Job>> waiting_;
  // The decoding thread's own: the batch in the cache's row order, and the longest a row may
  // grow to (prompt and budget), which bounds the cache at rows × that.
  std::vector<std::shared_ptr<Job>> rows_;
  std::vector<int64_t> reserved_;
  model::KvCache cache_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bespoke::serve
