#include "mocks/fault_injector.hpp"

#include "plan/catalog.hpp"

namespace planproof::mocks {

bool is_injectable(const plan::fault& f) noexcept {
  const auto* entry = plan::find_fault(f.kind);
  if (entry == nullptr || !entry->supported) return false;
  if (f.kind == "status") return f.status >= 200 && f.status <= 999;  // 1xx is not a final answer
  if (f.kind == "latency") return f.latency >= core::duration::zero();
  if (f.kind == "hang") return true;
  if (f.kind == "malformed") return f.malformed == "truncated";
  // A kind the catalog marks supported but this server does not implement yet: dropping it is
  // safer than answering normally while the report claims the fault was injected.
  return false;
}

fault_injector::fault_injector(std::vector<plan::fault> faults, std::uint64_t seed) : rng_(seed) {
  faults_.reserve(faults.size());
  for (auto& f : faults) {
    if (is_injectable(f)) {
      faults_.push_back(std::move(f));
    } else {
      ++ignored_;
    }
  }
}

std::optional<std::size_t> fault_injector::decide(std::string_view endpoint_id, core::duration elapsed) {
  std::optional<std::size_t> chosen;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const auto& f = faults_[i];
    if (elapsed < f.from || (f.to && elapsed >= *f.to)) continue;
    if (f.endpoint && *f.endpoint != endpoint_id) continue;
    // 53 random bits as a double in [0, 1): the same on every standard library, unlike
    // std::uniform_real_distribution, so a seed means the same sequence everywhere.
    const double draw = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    if (!chosen && draw < f.probability) chosen = i;
  }
  return chosen;
}

}  // namespace planproof::mocks
