#include "bespoke/pipeline/budget.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "bespoke/core/atomic_file.h"

namespace bespoke::pipeline {

Ledger::Ledger(const std::string& run_dir, const Rates& rates)
    : path_((std::filesystem::path(run_dir) / "ledger.json").string()), rates_(rates) {
  std::ifstream in(path_);
  if (!in) return;
  const Json j = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("stages") && j["stages"].is_object()) stages_ = j["stages"];
}

void Ledger::add(const std::string& stage, double seconds) {
  Json& s = stages_[stage];
  const double total = (s.is_object() ? s.value("seconds", 0.0) : 0.0) + seconds;
  const double hours = total / 3600 * static_cast<double>(rates_.devices);
  s = {{"seconds", total}, {"device_hours", hours}, {"cost", hours * rates_.price_per_hour}};
  write_file_atomic(path_, [&](std::ostream& out) { out << json().dump(2) << "\n"; });
}

double Ledger::seconds() const {
  double total = 0;
  for (const auto& [name, s] : stages_.items()) total += s.value("seconds", 0.0);
  return total;
}

double Ledger::cost() const {
  return seconds() / 3600 * static_cast<double>(rates_.devices) * rates_.price_per_hour;
}

double Ledger::seconds_left() const {
  double left = std::numeric_limits<double>::infinity();
  if (rates_.cost_cap > 0 && rates_.price_per_hour > 0)
    left = (rates_.cost_cap - cost()) / (rates_.price_per_hour * static_cast<double>(rates_.devices)) * 3600;
  if (rates_.minutes > 0) left = std::min(left, rates_.minutes * 60 - seconds());
  return std::max(left, 0.0);
}

std::string Ledger::exhausted() const {
  char line[256];
  if (rates_.cost_cap > 0 && cost() >= rates_.cost_cap) {
    std::snprintf(line, sizeof line, "the cost cap is reached: %.2f of %.2f spent (%.3f device-hours at %.2f)",
                  cost(), rates_.cost_cap, seconds() / 3600 * static_cast<double>(rates_.devices),
                  rates_.price_per_hour);
    return line;
  }
  if (rates_.minutes > 0 && seconds() >= rates_.minutes * 60) {
    std::snprintf(line, sizeof line, "the time budget is reached: %.1f of %.1f minutes spent", seconds() / 60,
                  rates_.minutes);
    return line;
  }
  return "";
}

Json Ledger::json() const {
  return {{"stages", stages_},
          {"seconds", seconds()},
          {"device_hours", seconds() / 3600 * static_cast<double>(rates_.devices)},
          {"cost", cost()},
          {"cost_cap", rates_.cost_cap},
          {"price_per_hour", rates_.price_per_hour}};
}

Deadline::Deadline(double seconds, const std::atomic<bool>& outer) : outer_(outer) {
  thread_ = std::thread([this, seconds] {
    using Clock = std::chrono::steady_clock;
    const double wait = std::isfinite(seconds) ? seconds : 1e9;
    const Clock::time_point end =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait));
    std::unique_lock<std::mutex> lock(mutex_);
    // Wakes every 200 ms to see the outer stop (a signal), which cannot notify.
    while (!done_ && !outer_.load()) {
      if (Clock::now() >= end) {
        expired_ = true;
        break;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
    stop_ = true;
  });
}

Deadline::~Deadline() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace bespoke::pipeline
