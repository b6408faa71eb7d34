// The result of a fallible store or limiter call (LevelDB's Status, in small).
#pragma once

#include <string>
#include <utility>

namespace sy::gov {

class Status {
 public:
  enum class Kind {
    kOk,
    kNotFound,     // no such row
    kConflict,     // a unique field (email, username, key hash) is taken
    kInvalid,      // the caller's value is not acceptable (e.g. a bad URL)
    kUnavailable,  // the database cannot be reached or failed; retry later
  };
  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Kind::kNotFound, std::move(m)); }
  static Status Conflict(std::string m) { return Status(Kind::kConflict, std::move(m)); }
  static Status Invalid(std::string m) { return Status(Kind::kInvalid, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Kind::kUnavailable, std::move(m)); }

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  // For logs. May name the database host or file; never sent to clients.
  const std::string& message() const { return message_; }

 private:
  Status(Kind k, std::string m) : kind_(k), message_(std::move(m)) {}
  Kind kind_ = Kind::kOk;
  std::string message_;
};

}  // namespace sy::gov
