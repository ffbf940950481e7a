// A record serialised exactly as Python's json.dumps(obj, ensure_ascii=...) writes it, because
// mnemonic's scorer searches that text: separators ", " and ": ", keys in their order, \n and
// friends escaped, floats printed as Python's repr (0.5, 2500.0, 1e-05, 1e+16).
#pragma once

#include <string>

#include "bespoke/task/encoding/record.h"

namespace bespoke::task::encoding {

std::string python_dumps(const Json& value, bool ensure_ascii);

// Python's repr of a float: the shortest digits that read back the same, in fixed notation
// for 1e-4 <= |x| < 1e16 (with ".0" when integral), else d.ddde+XX.
std::string python_float(double x);

// Python's truthiness of the parsed value (bool(x)): null, false, 0, "" and empty lists and
// objects are false.
bool python_truthy(const Json& value);

}  // namespace bespoke::task::encoding
