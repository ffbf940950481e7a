// The registered families, one line each. (Self-registering statics would be dropped by the
// linker from a static library.)
#include "bespoke/model/family.h"

namespace bespoke::model {

extern const Family kLlamaFamily, kMistralFamily, kQwen2Family, kQwen3Family, kGemma2Family, kGemma3Family,
    kGemma4Family, kPhi3Family, kOlmo2Family, kGraniteFamily, kQwen3_5Family;

const std::vector<const Family*>& families() {
  static const std::vector<const Family*> all = {
      &kLlamaFamily,  &kMistralFamily, &kQwen2Family, &kQwen3Family,   &kGemma2Family,  &kGemma3Family,
      &kGemma4Family, &kPhi3Family,    &kOlmo2Family, &kGraniteFamily, &kQwen3_5Family,
  };
  return all;
}

}  // namespace bespoke::model
