#include "bespoke/train/sampler.h"

#include "bespoke/core/error.h"

namespace bespoke::train {

Sampler::Sampler(const std::vector<Example>& examples, const DomainMix* mix, uint64_t seed) : mix_(mix), seed_(seed) {
  pools_.resize(mix ? mix->names.size() : 1);
  for (size_t i = 0; i < examples.size(); ++i) {
    const int64_t pool = mix ? mix->index(examples[i].domain) : 0;
    if (pool < 0) fail(ErrorKind::kUsage, "record domain '" + examples[i].domain + "' is not one of --domains");
    pools_[pool].push_back(i);
  }
  for (size_t p = 0; p < pools_.size(); ++p)
    if (pools_[p].empty()) fail(ErrorKind::kUsage, "domain '" + mix->names[p] + "' has no records");
  cursors_.resize(pools_.size());
  orders_.resize(pools_.size());
  order_epoch_.assign(pools_.size(), -1);
}

int64_t Sampler::next(size_t pool) {
  Cursor& c = cursors_[pool];
  const std::vector<int64_t>& members = pools_[pool];
  if (c.index == int64_t(members.size())) c = {c.epoch + 1, 0};
  // Pool p's pass e visits its members in epoch_order(size, seed + p, e).
  if (order_epoch_[pool] != c.epoch) orders_[pool] = epoch_order(members.size(), seed_ + pool, c.epoch), order_epoch_[pool] = c.epoch;
  return members[orders_[pool][c.index++]];
}

std::vector<int64_t> Sampler::rows(int64_t step, int64_t count) {
  std::vector<int64_t> out;
  for (int64_t r = 0; r < count; ++r) out.push_back(next(mix_ ? mix_->draw(seed_, step, r) : 0));
  return out;
}

nlohmann::json Sampler::state() const {
  nlohmann::json cursors = nlohmann::json::array();
  for (const Cursor& c : cursors_) cursors.push_back({c.epoch, c.index});
  return cursors;
}

void Sampler::restore(const nlohmann::json& state) {
  if (!state.is_array() || state.size() != cursors_.size()) fail(ErrorKind::kInput, "checkpoint data position does not match the data");
  for (size_t p = 0; p < cursors_.size(); ++p) cursors_[p] = {state[p][0].get<int64_t>(), state[p][1].get<int64_t>()};
}

}  // namespace bespoke::train
