#include "bespoke/train/sampler.h"

#include <algorithm>
#include <random>

#include "bespoke/core/error.h"

namespace bespoke::train {

Sampler::Sampler(const std::vector<text::Example>& examples, const DomainMix* mix, uint64_t seed, int64_t bucket,
                 int64_t batch)
    : mix_(mix), seed_(seed), bucket_(bucket), batch_(batch) {
  if (bucket_ > 0 && (mix || batch_ <= 0))
    fail(ErrorKind::kUsage, "length bucketing needs a batch size and no --domains");
  for (const text::Example& e : examples) lengths_.push_back(static_cast<int64_t>(e.ids.size()));
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
  if (order_epoch_[pool] != c.epoch) {
    orders_[pool] = epoch_order(members.size(), seed_ + pool, c.epoch);
    if (bucket_ > 0) orders_[pool] = bucketed(orders_[pool], seed_ + pool, c.epoch);
    order_epoch_[pool] = c.epoch;
  }
  return members[orders_[pool][c.index++]];
}

std::vector<int64_t> Sampler::bucketed(std::vector<int64_t> order, uint64_t seed, int64_t epoch) const {
  const size_t batch = static_cast<size_t>(batch_), window = static_cast<size_t>(bucket_) * batch;
  // Steps take `batch` rows at a time from one pass after another, so a pass whose start is not
  // on a step boundary begins with `lead` rows that finish the previous pass's last step. The
  // windows start after them, so that their sorted batches are the steps' batches.
  const size_t lead = (batch - epoch * order.size() % batch) % batch;
  std::mt19937_64 rng(seed * 1000003 + epoch + 0x5bd1e995);
  for (size_t w = std::min(lead, order.size()); w < order.size(); w += window) {
    const auto first = order.begin() + w, last = order.begin() + std::min(w + window, order.size());
    std::stable_sort(first, last,
                     [&](int64_t a, int64_t b) { return lengths_[pools_[0][a]] < lengths_[pools_[0][b]]; });
    // Shuffle whole batches within the window, so steps do not go from short rows to long ones.
    const size_t n = static_cast<size_t>(last - first) / batch;
    for (size_t i = n; i > 1; --i) {
      const size_t j = std::uniform_int_distribution<size_t>(0, i - 1)(rng);
      std::swap_ranges(first + (i - 1) * batch, first + i * batch, first + j * batch);
    }
  }
  return order;
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
  const auto cursor = [](const nlohmann::json& c) {
    return c.is_array() && c.size() == 2 && c[0].is_number_integer() && c[1].is_number_integer();
  };
  if (!state.is_array() || state.size() != cursors_.size() || !std::all_of(state.begin(), state.end(), cursor))
    fail(ErrorKind::kInput, "checkpoint data position does not match the data");
  for (size_t p = 0; p < cursors_.size(); ++p) cursors_[p] = {state[p][0].get<int64_t>(), state[p][1].get<int64_t>()};
}

std::vector<int64_t> micro_batch_rows(const std::vector<int64_t>& rows, int rank, int world, int64_t m, int64_t micro) {
  std::vector<int64_t> out;
  for (int64_t j = 0; j < micro; ++j) out.push_back(rows.at((m * micro + j) * world + rank));
  return out;
}

}  // namespace bespoke::train
