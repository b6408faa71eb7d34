// The spool file format (version 1):
//
//   file    = magic record*
//   magic   = "SYSPOOL1"                                        8 bytes
//   record  = length:u32le crc:u32le payload[length]
//             crc is CRC-32 (IEEE, as zlib) of the payload; 1 <= length <= 1 MiB
//   payload = version:u8 (1), then UsageRecord's fields in declaration order:
//             request_id ts key_id user_id provider model upstream_model
//             endpoint status latency_ms ttft_ms prompt_tokens
//             completion_tokens cached_tokens reasoning_tokens cost
//             usage_source error
//             strings: varint byte length + bytes; integers: zigzag varint
//             (LEB128, 7 bits a byte, low first)
//
// Records are only ever appended (a batch at a time, then fdatasync) and the
// file is only ever cut back to its header, after the store committed every
// record in it. A crash mid-append leaves a torn last record: Open() finds
// the end of the last whole record and cuts the rest. A record whose CRC
// fails inside the file (a flipped bit) is skipped on reading; its length
// still frames the next one.
#include "governance/usage_spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/log.h"

namespace sy::gov {

namespace {

constexpr char kMagic[] = "SYSPOOL1";
constexpr uint8_t kPayloadVersion = 1;

constexpr std::array<uint32_t, 256> kCrcTable = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}();

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutInt(std::string* out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));  // zigzag
}

void PutString(std::string* out, const std::string& s) {
  PutVarint(out, s.size());
  out->append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Int(int64_t* v) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool Int(int* v) {
    int64_t w;
    if (!Int(&w) || w < INT32_MIN || w > INT32_MAX) return false;
    *v = static_cast<int>(w);
    return true;
  }
  bool String(std::string* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Byte(uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

uint32_t Load32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 | static_cast<uint32_t>(u[2]) << 16 |
         static_cast<uint32_t>(u[3]) << 24;
}

void Store32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// False on an error or a short file (errno 0 then).
bool PreadAll(int fd, char* buf, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = 0;
      return false;
    }
    buf += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

bool PwriteAll(int fd, const char* buf, size_t n, uint64_t offset) {
  while (n > 0) {
    ssize_t r = ::pwrite(fd, buf, n, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    buf += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

void SyncParentDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = kCrcTable[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string EncodeUsageRecord(const UsageRecord& r) {
  std::string out;
  out.reserve(64 + r.request_id.size() + r.key_id.size() + r.user_id.size() + r.provider.size() + r.model.size() +
              r.upstream_model.size() + r.endpoint.size() + r.usage_source.size() + r.error.size());
  out.push_back(static_cast<char>(kPayloadVersion));
  PutString(&out, r.request_id);
  PutInt(&out, r.ts);
  PutString(&out, r.key_id);
  PutString(&out, r.user_id);
  PutString(&out, r.provider);
  PutString(&out, r.model);
  PutString(&out, r.upstream_model);
  PutString(&out, r.endpoint);
  PutInt(&out, r.status);
  PutInt(&out, r.latency_ms);
  PutInt(&out, r.ttft_ms);
  PutInt(&out, r.prompt_tokens);
  PutInt(&out, r.completion_tokens);
  PutInt(&out, r.cached_tokens);
  PutInt(&out, r.reasoning_tokens);
  PutInt(&out, r.cost);
  PutString(&out, r.usage_source);
  PutString(&out, r.error);
  return out;
}

bool DecodeUsageRecord(std::string_view payload, UsageRecord* r) {
  Reader in(payload);
  uint8_t version = 0;
  bool ok = in.Byte(&version) && version == kPayloadVersion && in.String(&r->request_id) && in.Int(&r->ts) &&
            in.String(&r->key_id) && in.String(&r->user_id) && in.String(&r->provider) && in.String(&r->model) &&
            in.String(&r->upstream_model) && in.String(&r->endpoint) && in.Int(&r->status) && in.Int(&r->latency_ms) &&
            in.Int(&r->ttft_ms) && in.Int(&r->prompt_tokens) && in.Int(&r->completion_tokens) &&
            in.Int(&r->cached_tokens) && in.Int(&r->reasoning_tokens) && in.Int(&r->cost) &&
            in.String(&r->usage_source) && in.String(&r->error);
  return ok && in.done() && !r->request_id.empty();
}

UsageSpool::~UsageSpool() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

Status UsageSpool::Fail(const std::string& what) const {
  return Status::Unavailable("usage spool " + path_ + ": " + what + ": " + std::strerror(errno));
}

Status UsageSpool::Create() {
  // The caller holds fd_ open and locked, the file empty or a torn header.
  if (::ftruncate(fd_, 0) != 0) return Fail("truncate");
  if (!PwriteAll(fd_, kMagic, kHeaderSize, 0)) return Fail("write header");
  if (::fdatasync(fd_) != 0) return Fail("fsync");
  SyncParentDir(path_);
  size_ = kHeaderSize;
  return Status::Ok();
}

Status UsageSpool::Open() {
  if (fd_ >= 0) return Status::Ok();
  Status s = OpenLocked();
  if (!s.ok() && fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  return s;
}

Status UsageSpool::OpenLocked() {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Fail("open");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    return errno == EWOULDBLOCK ? Status::Unavailable("usage spool " + path_ + " is in use by another recorder")
                                : Fail("lock");
  }
  struct stat st;
  if (::fstat(fd_, &st) != 0) return Fail("stat");
  const auto file_size = static_cast<uint64_t>(st.st_size);
  char header[kHeaderSize] = {};
  const size_t head = static_cast<size_t>(std::min<uint64_t>(file_size, kHeaderSize));
  if (head > 0 && !PreadAll(fd_, header, head, 0)) return Fail("read header");
  if (std::memcmp(header, kMagic, head) != 0) {
    // Not ours: keep it for a human, start a new spool.
    const std::string aside = path_ + ".unrecognized-" + std::to_string(NowMs());
    log::Error("usage spool ", path_, " is not a spool file; moved to ", aside);
    ::close(fd_);
    fd_ = -1;
    if (::rename(path_.c_str(), aside.c_str()) != 0) return Fail("rename unrecognized file");
    return OpenLocked();
  }
  if (file_size < kHeaderSize) return Create();  // new, or created by a process that died at once

  const uint64_t end = ScanEnd(kHeaderSize, file_size);
  if (end < file_size) {
    log::Warn("usage spool ", path_, ": cut ", file_size - end, " bytes of torn or unreadable tail at offset ", end,
              " (a write the process did not finish)");
    if (::ftruncate(fd_, static_cast<off_t>(end)) != 0 || ::fdatasync(fd_) != 0) return Fail("cut torn tail");
  }
  size_ = end;
  return Status::Ok();
}

uint64_t UsageSpool::ScanEnd(uint64_t pos, uint64_t file_size) const {
  uint64_t corrupt = 0;
  std::string payload;
  while (pos + 8 <= file_size) {
    char frame[8];
    if (!PreadAll(fd_, frame, sizeof frame, pos)) break;
    const uint32_t length = Load32(frame);
    if (length == 0 || length > kMaxPayload || pos + 8 + length > file_size) break;
    payload.resize(length);
    if (!PreadAll(fd_, payload.data(), length, pos + 8)) break;
    if (Crc32(payload) != Load32(frame + 4)) ++corrupt;
    pos += 8 + length;
  }
  if (corrupt > 0) log::Warn("usage spool ", path_, ": ", corrupt, " corrupt records will be skipped");
  return pos;
}

Status UsageSpool::Append(std::span<const UsageRecord> records, uint64_t max_bytes, size_t* appended) {
  *appended = 0;
  if (fd_ < 0) return Status::Unavailable("usage spool " + path_ + " is not open");
  std::string buf;
  size_t n = 0;
  for (const UsageRecord& r : records) {
    const std::string payload = EncodeUsageRecord(r);
    if (payload.size() > kMaxPayload) {
      log::Error("usage spool: a record of ", payload.size(), " bytes is too large to spool; dropped");
      break;
    }
    if (size_ + buf.size() + 8 + payload.size() > max_bytes) break;
    Store32(&buf, static_cast<uint32_t>(payload.size()));
    Store32(&buf, Crc32(payload));
    buf += payload;
    ++n;
  }
  if (n == 0) return Status::Ok();
  if (!PwriteAll(fd_, buf.data(), buf.size(), size_) || ::fdatasync(fd_) != 0) {
    Status s = Fail("append");
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      log::Error("usage spool ", path_, ": cannot cut a failed append back: ", std::strerror(errno));
    }
    return s;
  }
  size_ += buf.size();
  *appended = n;
  return Status::Ok();
}

Status UsageSpool::Read(uint64_t* offset, size_t max, std::vector<UsageRecord>* out, uint64_t* skipped) {
  out->clear();
  if (fd_ < 0) return Status::Unavailable("usage spool " + path_ + " is not open");
  std::string payload;
  while (out->size() < max && *offset + 8 <= size_) {
    char frame[8];
    if (!PreadAll(fd_, frame, sizeof frame, *offset)) return Fail("read");
    const uint32_t length = Load32(frame);
    if (length == 0 || length > kMaxPayload || *offset + 8 + length > size_) {
      // Open() framed every record; only a file changed under us gets here.
      log::Error("usage spool ", path_, ": unreadable record at offset ", *offset, "; the rest is skipped");
      ++*skipped;
      *offset = size_;
      break;
    }
    payload.resize(length);
    if (!PreadAll(fd_, payload.data(), length, *offset + 8)) return Fail("read");
    const uint64_t at = *offset;
    *offset += 8 + length;
    UsageRecord r;
    if (Crc32(payload) != Load32(frame + 4) || !DecodeUsageRecord(payload, &r)) {
      log::Warn("usage spool ", path_, ": corrupt record at offset ", at, " skipped");
      ++*skipped;
      continue;
    }
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

Status UsageSpool::Truncate() {
  if (fd_ < 0) return Status::Unavailable("usage spool " + path_ + " is not open");
  if (::ftruncate(fd_, static_cast<off_t>(kHeaderSize)) != 0 || ::fdatasync(fd_) != 0) return Fail("truncate");
  size_ = kHeaderSize;
  return Status::Ok();
}

}  // namespace sy::gov
