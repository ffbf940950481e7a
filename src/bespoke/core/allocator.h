// Process-wide settings of the C allocator for tensor workloads.
#pragma once

namespace bespoke {

// glibc hands every large block back to the kernel when it is freed, and libtorch frees and
// reallocates activation-sized blocks at every step: on CPU the page faults that follow cost
// more than the arithmetic (training measured 2.4x slower). Keeps freed memory in the heap
// instead. Call once, first thing in main().
void keep_freed_memory();

}  // namespace bespoke
