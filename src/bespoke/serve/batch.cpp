#include "bespoke/serve/batch.h"

#include <algorithm>
#include <chrono>

#include "bespoke/core/error.h"
#include "bespoke/model/generate.h"

namespace bespoke::serve {

Batcher::Batcher(ServedModel& model, int parallel, int64_t kv_slots)
    : model_(model),
      parallel_(parallel),
      kv_slots_(kv_slots > 0 ? kv_slots : parallel * model.context),
      device_(model.net->parameters().front().device()),
      cache_(model.net->new_cache()) {
  if (parallel < 1) fail(ErrorKind::kUsage, "--parallel must be at least 1");
  // A longrope row that crosses its switch is recomputed with new factors, which a row of a
  // batch, whose positions the others share, cannot be.
  if (parallel > 1 && model::has_longrope(model.net->spec()))
    fail(ErrorKind::kUnsupported, "--parallel above 1 is not supported for longrope models (their rope changes with the "
                                  "sequence's length): use --parallel 1");
  thread_ = std::thread([this] { loop(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Generation Batcher::run(Sequence& seq, const std::atomic<bool>& cancel, const std::function<bool()>& alive,
                        double poll) {
  auto job = std::make_shared<Job>();
  job->seq = &seq;
  job->cancel = &cancel;
  job->tokens.assign(seq.prompt().begin(), seq.prompt().end());
  std::unique_lock<std::mutex> lock(mutex_);
  waiting_.push_back(job);
  wake_.notify_all();
  while (!finished_.wait_for(lock, std::chrono::duration<double>(poll), [&] { return job->done; }))
    if (!job->gone && !alive()) job->gone = true;
  lock.unlock();
  return seq.finish();
}

void Batcher::exclusive(const std::function<void()>& f) {
  std::lock_guard<std::mutex> lock(forward_);
  f();
}

bool Batcher::fits(const Job& job) const {
  if (rows_.empty()) return true;  // alone it takes what it needs: the context bounds it
  const int64_t longest = std::max(*std::max_element(reserved_.begin(), reserved_.end()), job.seq->reach());
  return static_cast<int64_t>(rows_.size() + 1) * longest <= kv_slots_;
}

void Batcher::loop() {
  torch::NoGradGuard no_grad;
  while (true) {
    std::shared_ptr<Job> joining;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty() || !rows_.empty(); });
      if (stopping_) {
        for (auto& job : rows_) job->seq->cancel(), job->done = true;
        for (auto& job : waiting_) job->seq->cancel(), job->done = true;
        finished_.notify_all();
        return;
      }
      if (!waiting_.empty() && static_cast<int>(rows_.size()) < parallel_ && fits(*waiting_.front())) {
        joining = waiting_.front();
        waiting_.pop_front();
      }
    }
    if (joining)
      admit(joining);  // every request that fits joins before the next step
    else
      decode_step();
  }
}

void Batcher::admit(const std::shared_ptr<Job>& job) {
  if (job->ended()) {
    job->seq->cancel();
    return finish(*job);
  }
  std::lock_guard<std::mutex> lock(forward_);
  model::KvCache alone = model_.net->new_cache();
  const torch::Tensor logits = model_.net->forward(job->seq->prompt_tensor(device_), &alone).logits;
  if (!take(*job, logits[0][logits.size(1) - 1])) return;
  cache_ = model::join_rows(cache_, alone);
  rows_.push_back(job);
  reserved_.push_back(job->seq->reach());
}

void Batcher::decode_step() {
  std::lock_guard<std::mutex> lock(forward_);
  if (rows_.size() == 1 && model::rope_switches(model_.net->spec(), cache_.length, cache_.length + 1)) {
    Job& job = *rows_[0];  // longrope's switch: the whole sequence again, with the long factors
    cache_ = model_.net->new_cache();
    const torch::Tensor all = torch::tensor(job.tokens, torch::kLong).unsqueeze(0).to(device_);
    const torch::Tensor logits = model_.net->forward(all, &cache_).logits;
    if (!take(job, logits[0][logits.size(1) - 1])) rows_.clear(), reserved_.clear(), cache_ = model_.net->new_cache();
    return;
  }
  std::vector<int64_t> next;
  for (const auto& job : rows_) next.push_back(job->next);
  const torch::Tensor ids = torch::tensor(next, torch::kLong).unsqueeze(1).to(device_);  // [B, 1]
  const torch::Tensor logits = model_.net->forward(ids, &cache_).logits.select(1, 0).to(torch::kFloat32).cpu();
  std::vector<int64_t> keep;
  for (size_t i = 0; i < rows_.size(); ++i)
    if (take(*rows_[i], logits[static_cast<int64_t>(i)])) keep.push_back(static_cast<int64_t>(i));
  if (keep.size() == rows_.size()) return;
  std::vector<std::shared_ptr<Job>> rows;
  std::vector<int64_t> reserved;
  for (int64_t i : keep) rows.push_back(rows_[i]), reserved.push_back(reserved_[i]);
  cache_ = rows.empty() ? model_.net->new_cache() : model::select_rows(cache_, keep);
  rows_ = std::move(rows);
  reserved_ = std::move(reserved);
}

bool Batcher::take(Job& job, const torch::Tensor& logits) {
  if (job.ended()) {
    job.seq->cancel();
    finish(job);
    return false;
  }
  job.next = job.seq->step(logits);
  if (job.next < 0) {
    finish(job);
    return false;
  }
  job.tokens.push_back(job.next);
  return true;
}

void Batcher::finish(Job& job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job.done = true;
  }
  finished_.notify_all();
}

}  // namespace bespoke::serve
