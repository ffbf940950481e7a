// Writes that never leave a half-written file under the final name.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace bespoke {

// Calls `write` on a stream to a temporary file beside `path`, flushes it, then renames it to
// `path`. On any failure the temporary file is removed and `path` is untouched. Throws Error(kIo).
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// Waits until the file or directory at `path` (its entries, for a directory) is on disk, so that
// a rename after it cannot outlive, across a power loss, the data it names. Throws Error(kIo).
void sync_to_disk(const std::string& path);

}  // namespace bespoke
