#pragma once
// Internal helpers shared by the file formats in lib/io: opening a file for checked reads, and
// atomic writes (file_util.cpp) (temporary file, fsync, rename), so that a crash or a full disk during a save
// leaves any previous file at the destination intact.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "tapeflow/error.hpp"

namespace tapeflow::io_detail {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

struct ReadableFile {
  File file;
  std::uint64_t size = 0;  // bytes; every size read from the file is checked against this
};

// Opens a regular file for reading; throws IOError (prefixed with op) naming path otherwise.
inline ReadableFile open_for_reading(const char* op, const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file) fail<IOError>(op, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st;
  if (::fstat(::fileno(file.get()), &st) != 0 || !S_ISREG(st.st_mode))
    fail<IOError>(op, "'", path, "' is not a regular file");
  return {std::move(file), static_cast<std::uint64_t>(st.st_size)};
}

// Reads exactly n bytes or throws IOError saying what was being read.
inline void read_exact(const char* op, std::FILE* f, void* dst, std::size_t n, const std::string& path,
                       const char* what) {
  if (n > 0 && std::fread(dst, 1, n, f) != n)
    fail<IOError>(op, "'", path, "': truncated or unreadable while reading ", what);
}

inline bool write_bytes(std::FILE* f, const void* data, std::size_t n) {
  return n == 0 || std::fwrite(data, 1, n, f) == n;
}

// Writes path atomically: write(FILE*) fills `<path>.tmp.<pid>` (which must not exist yet) and
// returns false on a write error; the data is flushed to disk, then renamed over path. On any
// error the temporary is removed, an existing file at path is untouched, and IOError is thrown.
void write_atomically(const char* op, const std::string& path, const std::function<bool(std::FILE*)>& write);

}  // namespace tapeflow::io_detail
