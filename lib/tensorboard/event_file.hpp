#pragma once
// TensorBoard event files: TFRecord framing (length, masked CRC32C of the length, data, masked
// CRC32C of the data) and a buffered writer of one events.out.tfevents.* file.
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace tapeflow::tensorboard {

// CRC-32C (Castagnoli), the checksum TFRecord uses.
std::uint32_t crc32c(std::string_view data);
// TFRecord stores CRCs "masked" (rotated and offset) so that a CRC of data that itself
// contains CRCs stays well distributed.
std::uint32_t masked_crc32c(std::string_view data);
// One TFRecord: uint64 length (little-endian), masked CRC of those 8 bytes, data, masked CRC of data.
std::string frame_record(std::string_view data);

// Appends serialized Event messages to a new event file in `logdir` (created if missing).
// The file begins with an Event carrying file_version "brain.Event:2", as TensorFlow's.
// Records are buffered, written when `max_queue` are pending, on flush()/close(), and every
// `flush_secs` seconds by a background thread (as PyTorch's writer thread does).
class EventFileWriter {
 public:
  EventFileWriter(const std::string& logdir, int max_queue, double flush_secs,
                  const std::string& filename_suffix);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void add_event(const std::string& serialized_event);
  void flush();
  void close();  // flushes and closes the file; later add_event/flush calls throw IOError
  const std::string& path() const { return path_; }
  const std::string& logdir() const { return logdir_; }

 private:
  void flush_locked();
  void periodic_flush_loop();

  std::string logdir_;
  std::string path_;
  int max_queue_ = 10;
  double flush_secs_ = 120;
  std::FILE* file_ = nullptr;
  std::string pending_;       // framed records not yet written to the file
  int pending_count_ = 0;
  std::string flush_error_;   // an error met by the background flush, reported by the next call
  bool closed_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread flusher_;
};

}  // namespace tapeflow::tensorboard
