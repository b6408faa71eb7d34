#include "common/cidr.h"

#include <array>
#include <charconv>

namespace sy::net {
namespace {

namespace ip = boost::asio::ip;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<ip::address> ParseAddress(std::string_view text) {
  boost::system::error_code ec;
  auto address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return address;
}

// The address as IPv4 when it is an IPv4-mapped IPv6 address.
ip::address Unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

template <size_t N>
bool PrefixMatches(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b, unsigned bits) {
  size_t i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (bits == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xFF << (8 - bits));
  return (a[i] & mask) == (b[i] & mask);
}

}  // namespace

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  text = Trim(text);
  std::string_view addr = text;
  std::optional<unsigned> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view bits = text.substr(slash + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size()) return std::nullopt;
    prefix = value;
  }
  auto address = ParseAddress(addr);
  if (!address) return std::nullopt;
  Cidr out;
  out.network = Unmapped(*address);
  const unsigned max_bits = out.network.is_v4() ? 32 : 128;
  out.prefix = prefix.value_or(max_bits);
  if (out.prefix > max_bits) return std::nullopt;
  return out;
}

bool Cidr::Contains(const ip::address& address) const {
  const ip::address a = Unmapped(address);
  if (a.is_v4() != network.is_v4()) return false;
  if (a.is_v4()) return PrefixMatches(a.to_v4().to_bytes(), network.to_v4().to_bytes(), prefix);
  return PrefixMatches(a.to_v6().to_bytes(), network.to_v6().to_bytes(), prefix);
}

bool CidrSet::Contains(const ip::address& address) const {
  for (const auto& r : ranges_) {
    if (r.Contains(address)) return true;
  }
  return false;
}

ip::address ClientAddress(const ip::address& peer, std::string_view forwarded_for, const CidrSet& trusted) {
  if (forwarded_for.empty() || !trusted.Contains(peer)) return Unmapped(peer);
  ip::address client = Unmapped(peer);
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string_view hop = Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (hop.empty()) continue;
    auto address = ParseAddress(hop);
    if (!address) break;  // garbage: keep the last hop we could believe
    client = Unmapped(*address);
    if (!trusted.Contains(client)) break;
  }
  return client;
}

}  // namespace sy::net
