#pragma once
// Typed errors. Every user mistake throws one of these; messages start with "[op]".
#include <sstream>
#include <stdexcept>
#include <string>

namespace tapeflow {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error { public: using Error::Error; };    // incompatible shapes/dims
class DTypeError : public Error { public: using Error::Error; };    // unsupported dtype
class DeviceError : public Error { public: using Error::Error; };   // wrong/unavailable device
// A device allocation failed even after the allocator gave back its cache; the message gives
// the request, the device, and what is allocated and reserved.
class OutOfMemoryError : public DeviceError { public: using DeviceError::DeviceError; };
class IndexError : public Error { public: using Error::Error; };    // index out of range
class ValueError : public Error { public: using Error::Error; };    // bad argument value
class IOError : public Error { public: using Error::Error; };       // file read/write failure

namespace detail {
// Concatenates anything printable with operator<< into one string.
template <typename... Args>
std::string cat_str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

// Throws E with the message "[op] parts...".
template <typename E, typename... Args>
[[noreturn]] void fail(const char* op, const Args&... parts) {
  throw E(detail::cat_str("[", op, "] ", parts...));
}

}  // namespace tapeflow
