#include "common/cidr.h"

#include <gtest/gtest.h>

namespace sy::net {
namespace {

boost::asio::ip::address A(const char* text) { return boost::asio::ip::make_address(text); }

TEST(Cidr, ParsesRangesAndAddresses) {
  auto r = Cidr::Parse("10.0.0.0/8");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->Contains(A("10.200.1.1")));
  EXPECT_FALSE(r->Contains(A("11.0.0.1")));
  auto one = Cidr::Parse("127.0.0.1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->prefix, 32u);
  EXPECT_TRUE(one->Contains(A("127.0.0.1")));
  EXPECT_FALSE(one->Contains(A("127.0.0.2")));
  auto v6 = Cidr::Parse("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->Contains(A("fd12::1")));
  EXPECT_FALSE(v6->Contains(A("10.0.0.1")));
  auto odd = Cidr::Parse("192.168.1.0/23");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->Contains(A("192.168.0.255")));
  EXPECT_FALSE(odd->Contains(A("192.168.2.0")));
}

TEST(Cidr, MalformedIsRefused) {
  for (const char* bad : {"", "10.0.0.0/33", "::1/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x", "host.example", "1.2.3.4/8/9"}) {
    EXPECT_FALSE(Cidr::Parse(bad)) << bad;
  }
}

TEST(Cidr, MappedV6MatchesV4Ranges) { EXPECT_TRUE(Cidr::Parse("127.0.0.0/8")->Contains(A("::ffff:127.0.0.1"))); }

TEST(ClientAddress, ForwardedForIsIgnoredFromUntrustedPeers) {
  CidrSet none;
  EXPECT_EQ(ClientAddress(A("198.51.100.1"), "203.0.113.7", none), A("198.51.100.1"));
  CidrSet lb({*Cidr::Parse("10.0.0.0/8")});
  EXPECT_EQ(ClientAddress(A("198.51.100.1"), "203.0.113.7", lb), A("198.51.100.1"));
}

TEST(ClientAddress, RightmostUntrustedHopIsTheClient) {
  CidrSet lb({*Cidr::Parse("10.0.0.0/8")});
  EXPECT_EQ(ClientAddress(A("10.0.0.5"), "203.0.113.7", lb), A("203.0.113.7"));
  // The client may prepend anything; only hops added by trusted proxies count.
  EXPECT_EQ(ClientAddress(A("10.0.0.5"), "1.1.1.1, 203.0.113.7, 10.0.0.9", lb), A("203.0.113.7"));
  EXPECT_EQ(ClientAddress(A("10.0.0.5"), "garbage, 203.0.113.7", lb), A("203.0.113.7"));
  EXPECT_EQ(ClientAddress(A("10.0.0.5"), "203.0.113.7, garbage", lb), A("10.0.0.5"));
  EXPECT_EQ(ClientAddress(A("10.0.0.5"), "", lb), A("10.0.0.5"));
}

}  // namespace
}  // namespace sy::net
