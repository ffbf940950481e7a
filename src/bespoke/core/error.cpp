#include "bespoke/core/error.h"

namespace bespoke {

Error with_context(const Error& e, const std::string& context) {
  return Error(e.kind(), context + ": " + e.what());
}

void fail(ErrorKind kind, const std::string& message) {
  throw Error(kind, message);
}

}  // namespace bespoke
