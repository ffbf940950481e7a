#include "bespoke/model/units.h"

#include "bespoke/core/error.h"

namespace bespoke::model {

UnitMap keep_units(const std::vector<int64_t>& kept) {
  UnitMap map;
  for (size_t i = 0; i < kept.size(); ++i) map.add(kept[i], int64_t(i));
  return map;
}

torch::Tensor move_units(const torch::Tensor& t, int64_t dim, int64_t width, const UnitMap& map, int64_t units) {
  BESPOKE_CHECK(map.source.size() == map.target.size() && width > 0 && t.size(dim) % width == 0,
                "unit map does not fit the tensor");
  for (size_t i = 0; i < map.source.size(); ++i)
    BESPOKE_CHECK(
        map.source[i] >= 0 && map.source[i] * width < t.size(dim) && map.target[i] >= 0 && map.target[i] < units,
        "unit " + std::to_string(map.source[i]) + " -> " + std::to_string(map.target[i]) + " is out of range");
  std::vector<int64_t> shape = t.sizes().vec();
  shape[dim] = units * width;
  torch::Tensor out = torch::zeros(shape, t.options());
  if (map.source.empty()) return out;
  // Unit u covers elements [u * width, (u + 1) * width).
  const auto elements = [&](const std::vector<int64_t>& u) {
    const torch::Tensor first = torch::tensor(u, torch::kLong).mul_(width).unsqueeze(1);
    return (first + torch::arange(width, torch::kLong)).flatten().to(t.device());
  };
  return out.index_copy_(dim, elements(map.target), t.index_select(dim, elements(map.source)));
}

}  // namespace bespoke::model
