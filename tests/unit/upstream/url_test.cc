#include "upstream/url.h"

#include <gtest/gtest.h>

namespace sy::upstream {
namespace {

TEST(ParseUrl, HttpsWithDefaultPortAndPath) {
  auto url = ParseUrl("https://API.OpenAI.com/v1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "api.openai.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/v1");
  EXPECT_EQ(url->query, "");
  EXPECT_TRUE(url->tls());
  EXPECT_EQ(url->Authority(), "api.openai.com:443");
  EXPECT_EQ(url->HostHeader(), "api.openai.com");
  EXPECT_EQ(url->Target(), "/v1");
}

TEST(ParseUrl, SchemeIsCaseInsensitive) {
  auto url = ParseUrl("HTTP://localhost:8080");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->path, "/");
  EXPECT_EQ(url->HostHeader(), "localhost:8080");
}

TEST(ParseUrl, QueryAndFragment) {
  auto url = ParseUrl("http://h/v1/models?api-version=2024-01-01#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->path, "/v1/models");
  EXPECT_EQ(url->query, "api-version=2024-01-01");
  EXPECT_EQ(url->Target(), "/v1/models?api-version=2024-01-01");
  auto bare = ParseUrl("http://h?x=1");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
  EXPECT_EQ(bare->Target(), "/?x=1");
}

TEST(ParseUrl, UserinfoIsPercentDecoded) {
  auto url = ParseUrl("http://us%40er:p%3Ass@proxy.local:3128");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->userinfo, "us@er:p:ss");
  EXPECT_EQ(url->host, "proxy.local");
  EXPECT_EQ(url->port, 3128);
  EXPECT_EQ(url->Authority(), "proxy.local:3128");  // never the credentials
  EXPECT_FALSE(ParseUrl("http://a%zz@h"));
  EXPECT_FALSE(ParseUrl("http://a%2@h"));
}

TEST(ParseUrl, Ipv6Literal) {
  auto url = ParseUrl("http://[::1]:8080/x");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->Authority(), "[::1]:8080");
  EXPECT_EQ(url->HostHeader(), "[::1]:8080");
  auto default_port = ParseUrl("https://[2001:DB8::1]");
  ASSERT_TRUE(default_port);
  EXPECT_EQ(default_port->host, "2001:db8::1");
  EXPECT_EQ(default_port->HostHeader(), "[2001:db8::1]");
  EXPECT_FALSE(ParseUrl("http://[::1"));
  EXPECT_FALSE(ParseUrl("http://[::1]x"));
}

TEST(ParseUrl, DefaultHttpForProxyValues) {
  EXPECT_FALSE(ParseUrl("proxy:3128"));
  auto url = ParseUrl("proxy:3128", /*default_http=*/true);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "proxy");
  EXPECT_EQ(url->port, 3128);
}

TEST(ParseUrl, EmptyPortMeansDefault) {
  auto url = ParseUrl("http://h:/p");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 80);
}

TEST(ParseUrl, Rejects) {
  EXPECT_FALSE(ParseUrl(""));
  EXPECT_FALSE(ParseUrl("ftp://h/"));
  EXPECT_FALSE(ParseUrl("socks5://h:1080"));
  EXPECT_FALSE(ParseUrl("http://"));
  EXPECT_FALSE(ParseUrl("http:///path"));
  EXPECT_FALSE(ParseUrl("http://h:0/"));
  EXPECT_FALSE(ParseUrl("http://h:65536/"));
  EXPECT_FALSE(ParseUrl("http://h:12ab/"));
  EXPECT_FALSE(ParseUrl("http://h/a b"));
  EXPECT_FALSE(ParseUrl("http://h/a\r\nX-Injected: 1"));
  EXPECT_FALSE(ParseUrl("http://ho\tst/"));
  EXPECT_FALSE(ParseUrl("http://h!st/"));
}

TEST(JoinPath, Joins) {
  EXPECT_EQ(JoinPath("/v1", "/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(JoinPath("/v1/", "/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(JoinPath("/v1", "chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(JoinPath("/", "/models"), "/models");
  EXPECT_EQ(JoinPath("", "models"), "/models");
  EXPECT_EQ(JoinPath("v1", "models"), "/v1/models");
  EXPECT_EQ(JoinPath("/v1", ""), "/v1");
  EXPECT_EQ(JoinPath("", ""), "/");
}

}  // namespace
}  // namespace sy::upstream
