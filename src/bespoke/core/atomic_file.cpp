#include "bespoke/core/atomic_file.h"

#include <fcntl.h>
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

void sync_to_disk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::kIo, path + ": cannot open to sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // EINVAL: a file system that cannot sync this (some network and FUSE mounts, for directories).
  if (rc != 0 && err != EINVAL) fail(ErrorKind::kIo, path + ": fsync failed: " + std::strerror(err));
}

}  // namespace bespoke
