// Internal to the usage recorder: the spool file, where usage records wait
// while the store cannot take them. The file format is described in
// usage_spool.cc. Not thread-safe: the recorder's writer owns it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "governance/status.h"
#include "governance/types.h"

namespace sy::gov {

// CRC-32 (IEEE 802.3, the one zlib's crc32() computes).
uint32_t Crc32(std::string_view data);

// One record as a spool payload, and back. Decoding fails (false) on a
// payload that is short, long, of another version, or without a request id.
std::string EncodeUsageRecord(const UsageRecord& r);
bool DecodeUsageRecord(std::string_view payload, UsageRecord* r);

class UsageSpool {
 public:
  static constexpr uint64_t kHeaderSize = 8;
  static constexpr uint32_t kMaxPayload = 1 << 20;  // a longer length field is corruption

  explicit UsageSpool(std::string path) : path_(std::move(path)) {}
  ~UsageSpool();
  UsageSpool(const UsageSpool&) = delete;
  UsageSpool& operator=(const UsageSpool&) = delete;

  // Opens the file (creating it, mode 0600), takes an exclusive lock on it (a
  // second process on the same spool is refused), and checks it: a torn or
  // unreadable tail (a crash mid-append) is cut off and logged; a file that is
  // not a spool is renamed aside ("<path>.unrecognized-<ms>") and replaced.
  Status Open();
  bool is_open() const { return fd_ >= 0; }

  // Appends the records that fit under max_bytes (whole records, in order)
  // and fsyncs. *appended = how many. On failure the file is cut back to its
  // previous length and *appended is 0.
  Status Append(std::span<const UsageRecord> records, uint64_t max_bytes, size_t* appended);
  // Reads up to max records from *offset (kHeaderSize = the first) and moves
  // *offset past them. A record that fails its CRC or does not decode is
  // skipped, logged and counted in *skipped. At the end, out is empty.
  Status Read(uint64_t* offset, size_t max, std::vector<UsageRecord>* out, uint64_t* skipped);
  // Empties the file (the header stays) and fsyncs.
  Status Truncate();

  uint64_t size() const { return size_; }  // bytes, header included
  bool has_records() const { return size_ > kHeaderSize; }
  const std::string& path() const { return path_; }

 private:
  Status Fail(const std::string& what) const;
  Status OpenLocked();  // Open()'s work; the caller closes fd_ when it fails
  Status Create();
  // From `from`: the end of the last whole record (CRC failures inside are
  // skipped over, not cut).
  uint64_t ScanEnd(uint64_t from, uint64_t file_size) const;

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace sy::gov
