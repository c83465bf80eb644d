#include "tensorboard/event_file.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "tapeflow/error.hpp"
#include "tensorboard/summary.hpp"

namespace tapeflow::tensorboard {
namespace {

// Byte-at-a-time table for the reflected Castagnoli polynomial 0x82F63B78.
constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

std::string little_endian_bytes(std::uint64_t value, int count) {
  std::string out(static_cast<std::size_t>(count), '\0');
  for (int i = 0; i < count; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

// The n in events.out.tfevents.<time>.<host>.<pid>.<n>: unique per process, as PyTorch's counter.
std::atomic<long> next_file_uid{0};

}  // namespace

std::uint32_t crc32c(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) crc = kCrc32cTable[(crc ^ byte) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::uint32_t masked_crc32c(std::string_view data) {
  const std::uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

std::string frame_record(std::string_view data) {
  const std::string length = little_endian_bytes(data.size(), 8);
  std::string record = length;
  record += little_endian_bytes(masked_crc32c(length), 4);
  record.append(data);
  record += little_endian_bytes(masked_crc32c(data), 4);
  return record;
}

EventFileWriter::EventFileWriter(const std::string& logdir, int max_queue, double flush_secs,
                                 const std::string& filename_suffix)
    : logdir_(logdir), max_queue_(max_queue), flush_secs_(flush_secs) {
  if (max_queue < 1) fail<ValueError>("SummaryWriter", "max_queue >= 1, got ", max_queue);
  if (!(flush_secs > 0)) fail<ValueError>("SummaryWriter", "flush_secs > 0, got ", flush_secs);
  std::error_code ec;
  std::filesystem::create_directories(logdir, ec);
  if (ec) fail<IOError>("SummaryWriter", "cannot create log directory '", logdir, "': ", ec.message());
  const double now = wall_time_now();
  char stamp[32];
  std::snprintf(stamp, sizeof(stamp), "%010lld", static_cast<long long>(now));
  path_ = (std::filesystem::path(logdir) / ("events.out.tfevents." + std::string(stamp) + "." + host_name() + "." +
                                           std::to_string(getpid()) + "." + std::to_string(next_file_uid++) +
                                           filename_suffix)).string();
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr)
    fail<IOError>("SummaryWriter", "cannot open event file '", path_, "' for writing: ", std::strerror(errno));
  add_event(file_version_event(now));
  flush();
  flusher_ = std::thread([this] { periodic_flush_loop(); });
}

EventFileWriter::~EventFileWriter() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; close() explicitly to see write errors.
  }
}

void EventFileWriter::add_event(const std::string& serialized_event) {
  std::lock_guard lock(mutex_);
  if (closed_) fail<IOError>("SummaryWriter", "a write to '", path_, "' after close()");
  pending_ += frame_record(serialized_event);
  if (++pending_count_ >= max_queue_) flush_locked();
}

void EventFileWriter::flush() {
  std::lock_guard lock(mutex_);
  if (closed_) fail<IOError>("SummaryWriter", "flush of '", path_, "' after close()");
  flush_locked();
}

void EventFileWriter::flush_locked() {
  if (!flush_error_.empty()) {
    std::string error = std::move(flush_error_);
    flush_error_.clear();
    throw IOError(error);
  }
  if (!pending_.empty() && std::fwrite(pending_.data(), 1, pending_.size(), file_) != pending_.size())
    fail<IOError>("SummaryWriter", "cannot write event file '", path_, "': ", std::strerror(errno));
  pending_.clear();
  pending_count_ = 0;
  if (std::fflush(file_) != 0)
    fail<IOError>("SummaryWriter", "cannot flush event file '", path_, "': ", std::strerror(errno));
}

void EventFileWriter::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard lock(mutex_);
  std::FILE* file = file_;
  file_ = nullptr;
  std::string error = std::move(flush_error_);
  flush_error_.clear();
  if (error.empty() && !pending_.empty() && std::fwrite(pending_.data(), 1, pending_.size(), file) != pending_.size())
    error = detail::cat_str("[SummaryWriter] cannot write event file '", path_, "': ", std::strerror(errno));
  pending_.clear();
  if (std::fclose(file) != 0 && error.empty())
    error = detail::cat_str("[SummaryWriter] cannot close event file '", path_, "': ", std::strerror(errno));
  if (!error.empty()) throw IOError(error);
}

void EventFileWriter::periodic_flush_loop() {
  const auto period = std::chrono::duration<double>(flush_secs_);
  std::unique_lock lock(mutex_);
  while (!closed_) {
    if (wake_.wait_for(lock, period, [this] { return closed_; })) break;
    try {
      flush_locked();
    } catch (const IOError& e) {
      flush_error_ = e.what();  // reported by the user's next flush() or close()
    }
  }
}

}  // namespace tapeflow::tensorboard
