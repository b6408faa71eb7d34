// IP address ranges ("10.0.0.0/8", "::1/128", or a bare address) and the
// client address behind trusted proxies.
//
// Used for server.trusted_proxies: a request's X-Forwarded-For is believed only
// when the connection comes from one of these ranges.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace sy::net {

struct Cidr {
  boost::asio::ip::address network;  // the address with host bits as given
  unsigned prefix = 0;               // leading bits that must match

  // "a.b.c.d/n", "x::y/n" or a bare address (a /32 or /128). nullopt when malformed
  // or the prefix is longer than the address.
  static std::optional<Cidr> Parse(std::string_view text);
  // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 ranges.
  bool Contains(const boost::asio::ip::address& address) const;
};

class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(std::vector<Cidr> ranges) : ranges_(std::move(ranges)) {}
  bool empty() const { return ranges_.empty(); }
  bool Contains(const boost::asio::ip::address& address) const;

 private:
  std::vector<Cidr> ranges_;
};

// The client's address for logs and limits. `peer` is the connection's
// remote address. When peer is trusted, X-Forwarded-For (`forwarded_for`, the
// header's value with several headers joined by ',') is walked from the right,
// skipping trusted hops; the first untrusted address is the client. A
// malformed entry stops the walk at the last good hop. When peer is not
// trusted the header is ignored.
boost::asio::ip::address ClientAddress(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                                       const CidrSet& trusted);

}  // namespace sy::net
