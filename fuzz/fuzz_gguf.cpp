// Fuzz target for the GGUF reader: any input must either open and read back every tensor, or
// throw bespoke::Error; a crash, sanitizer report or other exception is a bug.
#include "bespoke/core/error.h"
#include "bespoke/io/gguf_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const bespoke::io::GgufFile file(bespoke::fuzz::input_file(data, size));
    for (const bespoke::io::GgufTensorInfo& t : file.tensors()) {
      if (bespoke::fuzz::worth_reading(t.shape)) file.get(t.name);
    }
  } catch (const bespoke::Error&) {}
  return 0;
}
