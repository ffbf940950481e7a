#include "bespoke/core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "bespoke/core/error.h"

namespace bespoke {

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(ErrorKind::kIo, path + ": cannot create: " + std::strerror(errno));
    write(out);
    out.flush();
    if (!out) fail(ErrorKind::kIo, path + ": write failed: " + std::strerror(errno));
    out.close();
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail(ErrorKind::kIo, path + ": rename failed: " + std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace bespoke
