// What a run may spend: device-hours turned into money at a stated price, against a cap, and a
// wall-clock limit. The ledger (RUN/ledger.json) accounts every stage's time, interrupted
// attempts included, so a rerun knows what the run has already cost. A training stage gets a
// Deadline at what is left; at the deadline it checkpoints and the run stops with a message.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace bespoke::pipeline {

using Json = nlohmann::ordered_json;

struct Rates {
  double price_per_hour = 0;  // per device-hour
  int64_t devices = 1;        // devices a stage holds (a CPU run: the machine, one)
  double cost_cap = 0;        // 0: none
  double minutes = 0;         // wall-clock cap of the run; 0: none
};

class Ledger {
 public:
  // Reads RUN/ledger.json if there is one.
  Ledger(const std::string& run_dir, const Rates& rates);

  // Adds `seconds` of stage `stage` and writes the ledger.
  void add(const std::string& stage, double seconds);

  double cost() const;     // so far, all stages
  double seconds() const;  // so far, all stages
  // Seconds left before the first cap is reached; +infinity without caps.
  double seconds_left() const;
  // Why the run must stop before more work, or "" while within its caps.
  std::string exhausted() const;
  // {stages: {name: {seconds, device_hours, cost}}, seconds, device_hours, cost, cost_cap, price_per_hour}
  Json json() const;

 private:
  std::string path_;
  Rates rates_;
  Json stages_ = Json::object();
};

// Sets stop() once `seconds` have passed or `outer` is set, whichever comes first.
class Deadline {
 public:
  Deadline(double seconds, const std::atomic<bool>& outer);
  ~Deadline();
  const std::atomic<bool>& stop() const { return stop_; }
  bool expired() const { return expired_; }

 private:
  const std::atomic<bool>& outer_;
  std::atomic<bool> stop_{false}, expired_{false};
  bool done_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace bespoke::pipeline
