// Fuzz target for the safetensors reader: any input must either open and read back every
// tensor, or throw bespoke::Error; a crash, sanitizer report or other exception is a bug.
#include "bespoke/core/error.h"
#include "bespoke/io/safetensors.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bespoke::io::SafetensorsFile file(bespoke::fuzz::input_file(data, size));
    for (const auto& [name, entry] : file.entries()) {
      if (bespoke::fuzz::worth_reading(entry.shape)) file.get(name);
    }
  } catch (const bespoke::Error&) {}
  return 0;
}
