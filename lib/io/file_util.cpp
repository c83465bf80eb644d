// Atomic file writes (see file_util.hpp).
#include "io/file_util.hpp"

#include <fcntl.h>

#include <filesystem>

namespace tapeflow::io_detail {
namespace {

// Makes a completed rename durable; failing to sync the directory does not undo the save.
void sync_parent_directory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_atomically(const char* op, const std::string& path, const std::function<bool(std::FILE*)>& write) {
  std::string tmp = path;
  tmp += ".tmp.";
  tmp += std::to_string(::getpid());
  // "x": never reuse an existing file (another save to this path may be writing it).
  std::FILE* f = std::fopen(tmp.c_str(), "wbx");
  if (!f) fail<IOError>(op, "cannot create temporary file '", tmp, "' for '", path, "': ", std::strerror(errno));
  bool written = false;
  try {
    written = write(f) && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (written && !closed) err = errno;
  if (!written || !closed) {
    std::remove(tmp.c_str());
    fail<IOError>(op, "cannot write '", path, "': ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    std::remove(tmp.c_str());
    fail<IOError>(op, "cannot replace '", path, "': ", std::strerror(err));
  }
  sync_parent_directory(path);
}

}  // namespace tapeflow::io_detail
