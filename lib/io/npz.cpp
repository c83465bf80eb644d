// .npz: zip archives of .npy members (see include/tapeflow/io/npz.hpp). Only the parts of the
// zip format NumPy uses: stored or deflated members, ZIP64 extra fields for sizes (np.savez
// always writes them), one disk. The central directory is authoritative for sizes and offsets.
#include "tapeflow/io/npz.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "io/file_util.hpp"
#include "io/npy_format.hpp"

namespace tapeflow {
namespace {

constexpr const char* kLoad = "load_npz";
constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22;
constexpr std::uint64_t kMaxDeflateRatio = 1032;  // deflate cannot expand data more than this

std::uint64_t le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}
void put_le(std::string& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t crc_of(std::uint32_t crc, const void* data, std::size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {  // zlib takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = static_cast<std::uint32_t>(::crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

// Reads a member's bytes from the archive or from memory, keeping a CRC of what was read.
class CrcReader : public io_detail::ByteReader {
 public:
  CrcReader(std::FILE* f, const char* memory, const std::string& name) : f_(f), memory_(memory), name_(name) {}
  void read(void* dst, std::size_t n, const char* what) override {
    if (memory_) {
      std::memcpy(dst, memory_ + offset_, n);  // read_npy never reads past the size it is given
      offset_ += n;
    } else {
      io_detail::read_exact(kLoad, f_, dst, n, name_, what);
    }
    crc_ = crc_of(crc_, dst, n);
  }
  std::uint32_t crc() const { return crc_; }

 private:
  std::FILE* f_;
  const char* memory_;
  const std::string& name_;
  std::size_t offset_ = 0;
  std::uint32_t crc_ = 0;
};

struct Member {
  std::string name;
  std::uint16_t flags = 0, method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
};

class Archive {
 public:
  explicit Archive(const std::string& path) : path_(path) {
    auto opened = io_detail::open_for_reading(kLoad, path);
    file_ = std::move(opened.file);
    size_ = opened.size;
  }

  [[noreturn]] void bad(const std::string& why) const {
    fail<IOError>(kLoad, "'", path_, "': ", why);
  }

  std::vector<unsigned char> read_at(std::uint64_t offset, std::uint64_t n, const char* what) {
    if (offset > size_ || n > size_ - offset) bad(std::string(what) + " lies outside the file (truncated or corrupt)");
    std::vector<unsigned char> out(static_cast<std::size_t>(n));
    seek(offset);
    io_detail::read_exact(kLoad, file_.get(), out.data(), out.size(), path_, what);
    return out;
  }
  void seek(std::uint64_t offset) {
    if (::fseeko(file_.get(), static_cast<off_t>(offset), SEEK_SET) != 0) bad("cannot seek");
  }

  // The members listed by the central directory, in order.
  std::vector<Member> members() {
    if (size_ < kEndSize) bad("not a zip archive (too short for an end-of-central-directory record)");
    const std::uint64_t tail_size = std::min<std::uint64_t>(size_, kEndSize + 0xffff);
    const std::vector<unsigned char> tail = read_at(size_ - tail_size, tail_size, "the end record");
    std::size_t end = tail.size() - kEndSize + 1;
    do {
      if (end-- == 0) bad("not a zip archive (no end-of-central-directory record)");
    } while (le(&tail[end], 4) != kEndSig);
    const unsigned char* e = &tail[end];
    const std::uint64_t count = le(e + 10, 2), cd_size = le(e + 12, 4), cd_offset = le(e + 16, 4);
    if (le(e + 4, 2) != 0 || le(e + 6, 2) != 0 || le(e + 8, 2) != count) bad("multi-disk archives are not supported");
    if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff)
      bad("ZIP64 end records (archives over 4 GiB or 65535 members) are not supported");
    const std::uint64_t end_offset = size_ - tail_size + end;
    if (cd_offset > end_offset || cd_size > end_offset - cd_offset) bad("central directory lies outside the file");
    if (count > cd_size / kCentralSize) bad("central directory too small for " + std::to_string(count) + " members");
    cd_end_ = cd_offset;
    const std::vector<unsigned char> cd = read_at(cd_offset, cd_size, "the central directory");

    std::vector<Member> out;
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      if (cd.size() - pos < kCentralSize || le(&cd[pos], 4) != kCentralSig) bad("corrupt central directory entry");
      const unsigned char* c = &cd[pos];
      Member m;
      m.flags = static_cast<std::uint16_t>(le(c + 8, 2));
      m.method = static_cast<std::uint16_t>(le(c + 10, 2));
      m.crc = static_cast<std::uint32_t>(le(c + 16, 4));
      m.compressed = le(c + 20, 4);
      m.uncompressed = le(c + 24, 4);
      m.local_offset = le(c + 42, 4);
      const std::size_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2), comment_len = le(c + 32, 2);
      if (cd.size() - pos - kCentralSize < name_len + extra_len + comment_len) bad("corrupt central directory entry");
      m.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
      read_zip64_extra(m, c + kCentralSize + name_len, extra_len);
      pos += kCentralSize + name_len + extra_len + comment_len;
      out.push_back(std::move(m));
    }
    return out;
  }

  Tensor load(const Member& m) {
    const std::string where = path_ + "' member '" + m.name;
    auto bad_member = [&](const std::string& why) { bad("member '" + m.name + "': " + why); };
    if (m.flags & 1) bad_member("encrypted members are not supported");
    if (m.method != 0 && m.method != 8) bad_member("compression method " + std::to_string(m.method) + " is not supported (stored or deflate only)");
    const std::vector<unsigned char> local = read_at(m.local_offset, kLocalSize, "a local header");
    if (le(local.data(), 4) != kLocalSig) bad_member("bad local header signature");
    const std::uint64_t data_offset = m.local_offset + kLocalSize + le(&local[26], 2) + le(&local[28], 2);
    if (data_offset > cd_end_ || m.compressed > cd_end_ - data_offset) bad_member("data lies outside the archive");

    std::uint32_t crc;
    Tensor t;
    if (m.method == 0) {
      if (m.compressed != m.uncompressed) bad_member("stored member with different compressed and uncompressed sizes");
      seek(data_offset);
      CrcReader reader(file_.get(), nullptr, where);
      t = io_detail::read_npy(reader, m.uncompressed, where);
      crc = reader.crc();
    } else {
      if (m.uncompressed > m.compressed * kMaxDeflateRatio + 64)
        bad_member("claims " + std::to_string(m.uncompressed) + " bytes from " + std::to_string(m.compressed) +
                   " compressed bytes, more than deflate can produce");
      const std::vector<unsigned char> packed = read_at(data_offset, m.compressed, "member data");
      std::vector<char> bytes(static_cast<std::size_t>(m.uncompressed));
      inflate_into(packed, bytes, bad_member);
      CrcReader reader(nullptr, bytes.data(), where);
      t = io_detail::read_npy(reader, m.uncompressed, where);
      crc = reader.crc();
    }
    if (crc != m.crc) bad_member("CRC mismatch (corrupt data)");
    return t;
  }

 private:
  // np.savez writes ZIP64 extra fields; a 0xffffffff field is then given there in 8 bytes.
  void read_zip64_extra(Member& m, const unsigned char* extra, std::size_t len) {
    std::uint64_t* fields[] = {&m.uncompressed, &m.compressed, &m.local_offset};
    const bool needed = m.uncompressed == 0xffffffff || m.compressed == 0xffffffff || m.local_offset == 0xffffffff;
    std::size_t pos = 0;
    while (needed && pos + 4 <= len) {
      const std::uint64_t id = le(extra + pos, 2), size = le(extra + pos + 2, 2);
      if (pos + 4 + size > len) break;
      if (id == 1) {
        std::size_t at = pos + 4;
        for (std::uint64_t* f : fields) {
          if (*f != 0xffffffff) continue;
          if (at + 8 > pos + 4 + size) bad("member '" + m.name + "': short ZIP64 extra field");
          *f = le(extra + at, 8);
          at += 8;
        }
        return;
      }
      pos += 4 + size;
    }
    if (needed) bad("member '" + m.name + "': sizes need a ZIP64 extra field, which is missing");
  }

  template <typename Bad>
  static void inflate_into(const std::vector<unsigned char>& packed, std::vector<char>& out, const Bad& bad_member) {
    z_stream z{};
    if (::inflateInit2(&z, -MAX_WBITS) != Z_OK) bad_member("cannot start inflating");
    z.next_in = const_cast<Bytef*>(packed.data());
    z.avail_in = static_cast<uInt>(packed.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = ::inflate(&z, Z_FINISH);
    const std::uint64_t produced = z.total_out;
    ::inflateEnd(&z);
    if (rc != Z_STREAM_END || produced != out.size()) bad_member("corrupt deflate data or wrong uncompressed size");
  }

  const std::string& path_;
  io_detail::File file_;
  std::uint64_t size_ = 0;
  std::uint64_t cd_end_ = 0;  // member data must end before the central directory
};

}  // namespace

StateDict load_npz(const std::string& path) {
  Archive archive(path);
  StateDict out("load_npz");
  for (const Member& m : archive.members()) {
    std::string name = m.name;
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    if (out.contains(name)) archive.bad("duplicate member '" + m.name + "'");
    out.insert(std::move(name), archive.load(m));
  }
  return out;
}

void save_npz(const std::string& path, const StateDict& tensors) {
  constexpr const char* op = "save_npz";
  struct Entry {
    std::string name, preamble;
    Tensor data;
    std::uint32_t crc;
    std::uint64_t offset;
  };
  std::vector<Entry> entries;
  std::uint64_t offset = 0;
  for (const auto& item : tensors) {
    if (!item.value().defined()) fail<IOError>(op, "'", path, "': tensor '", item.key(), "' is undefined");
    Entry e{item.key() + ".npy", "", item.value().detach().cpu().contiguous(), 0, offset};
    e.preamble = io_detail::npy_preamble(e.data);
    e.crc = crc_of(crc_of(0, e.preamble.data(), e.preamble.size()), e.data.data_ptr(), e.data.nbytes());
    if (e.name.size() > 0xffff) fail<IOError>(op, "'", path, "': tensor name too long for a zip member");
    offset += kLocalSize + e.name.size() + e.preamble.size() + e.data.nbytes();
    entries.push_back(std::move(e));
  }
  if (entries.size() >= 0xffff || offset >= 0xffffffff)
    fail<IOError>(op, "'", path, "': archives of 65535 members or 4 GiB and more need ZIP64, which is not supported");

  auto header = [](const Entry& e, bool central) {
    std::string h;
    const std::uint64_t size = e.preamble.size() + e.data.nbytes();
    put_le(h, central ? kCentralSig : kLocalSig, 4);
    if (central) put_le(h, 20, 2);  // made by: zip 2.0
    put_le(h, 20, 2);               // needed to extract: 2.0
    put_le(h, 0, 2);                // flags
    put_le(h, 0, 2);                // method: stored
    put_le(h, 0, 2);                // time 00:00
    put_le(h, 0x21, 2);             // date 1980-01-01
    put_le(h, e.crc, 4);
    put_le(h, size, 4);
    put_le(h, size, 4);
    put_le(h, e.name.size(), 2);
    put_le(h, 0, 2);  // extra
    if (central) {
      put_le(h, 0, 2);  // comment
      put_le(h, 0, 2);  // disk
      put_le(h, 0, 2);  // internal attributes
      put_le(h, 0, 4);  // external attributes
      put_le(h, e.offset, 4);
    }
    return h + e.name;
  };
  std::string central;
  for (const Entry& e : entries) central += header(e, true);
  std::string end;
  put_le(end, kEndSig, 4);
  put_le(end, 0, 4);  // this disk, central directory disk
  put_le(end, entries.size(), 2);
  put_le(end, entries.size(), 2);
  put_le(end, central.size(), 4);
  put_le(end, offset, 4);
  put_le(end, 0, 2);  // comment
  central += end;

  io_detail::write_atomically(op, path, [&](std::FILE* f) {
    for (const Entry& e : entries) {
      const std::string local = header(e, false);
      if (!io_detail::write_bytes(f, local.data(), local.size()) ||
          !io_detail::write_bytes(f, e.preamble.data(), e.preamble.size()) ||
          !io_detail::write_bytes(f, e.data.data_ptr(), e.data.nbytes()))
        return false;
    }
    return io_detail::write_bytes(f, central.data(), central.size());
  });
}

}  // namespace tapeflow
