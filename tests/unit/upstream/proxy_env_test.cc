#include "upstream/proxy_env.h"

#include <map>

#include <gtest/gtest.h>

namespace sy::upstream {
namespace {

config::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Url U(std::string_view text) { return *ParseUrl(text); }

TEST(ProxySettings, NoVariablesMeansDirect) {
  auto s = ProxySettings::FromEnv(Env({}));
  EXPECT_FALSE(s.ProxyFor(U("https://api.openai.com/v1")));
  EXPECT_FALSE(s.ProxyFor(U("http://localhost:8000/v1")));
}

TEST(ProxySettings, HttpsProxyOnlyForHttpsTargets) {
  auto s = ProxySettings::FromEnv(Env({{"HTTPS_PROXY", "http://proxy:3128"}}));
  auto p = s.ProxyFor(U("https://api.openai.com/v1"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->host, "proxy");
  EXPECT_EQ(p->port, 3128);
  EXPECT_FALSE(s.ProxyFor(U("http://api.openai.com/v1")));
}

TEST(ProxySettings, HttpProxyOnlyForHttpTargets) {
  auto s = ProxySettings::FromEnv(Env({{"HTTP_PROXY", "proxy:8080"}}));
  auto p = s.ProxyFor(U("http://vllm.internal:8000/v1"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scheme, "http");
  EXPECT_EQ(p->Authority(), "proxy:8080");
  EXPECT_FALSE(s.ProxyFor(U("https://api.openai.com")));
}

TEST(ProxySettings, LowerCaseWins) {
  auto s = ProxySettings::FromEnv(Env({{"HTTPS_PROXY", "http://upper:1"},
                                       {"https_proxy", "http://lower:2"},
                                       {"NO_PROXY", "upper.example"},
                                       {"no_proxy", "lower.example"}}));
  EXPECT_EQ(s.ProxyFor(U("https://x.com"))->host, "lower");
  EXPECT_FALSE(s.ProxyFor(U("https://lower.example")));
  EXPECT_TRUE(s.ProxyFor(U("https://upper.example")));
}

TEST(ProxySettings, EmptyValueCountsAsUnset) {
  auto s = ProxySettings::FromEnv(Env({{"https_proxy", ""}, {"HTTPS_PROXY", "http://upper:1"}}));
  ASSERT_TRUE(s.ProxyFor(U("https://x.com")));
  EXPECT_EQ(s.ProxyFor(U("https://x.com"))->host, "upper");
}

TEST(ProxySettings, UserinfoKept) {
  auto s = ProxySettings::FromEnv(Env({{"https_proxy", "http://alice:s%3Dcret@proxy:3128"}}));
  auto p = s.ProxyFor(U("https://api.openai.com"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->userinfo, "alice:s=cret");
  EXPECT_EQ(p->Authority(), "proxy:3128");
}

TEST(ProxySettings, UnparsableProxyIgnored) {
  auto s = ProxySettings::FromEnv(Env({{"https_proxy", "socks5://proxy:1080"}}));
  EXPECT_FALSE(s.ProxyFor(U("https://api.openai.com")));
}

class NoProxyTest : public ::testing::Test {
 protected:
  bool Proxied(const std::string& no_proxy, std::string_view target) {
    auto s = ProxySettings::FromEnv(
        Env({{"https_proxy", "http://proxy:3128"}, {"http_proxy", "http://proxy:3128"}, {"no_proxy", no_proxy}}));
    return s.ProxyFor(U(target)).has_value();
  }
};

TEST_F(NoProxyTest, ExactHostAndSubdomains) {
  EXPECT_FALSE(Proxied("example.com", "https://example.com"));
  EXPECT_FALSE(Proxied("example.com", "https://api.example.com"));
  EXPECT_FALSE(Proxied(".example.com", "https://api.example.com"));
  EXPECT_FALSE(Proxied(".example.com", "https://example.com"));
  EXPECT_FALSE(Proxied("*.example.com", "https://a.b.example.com"));
  EXPECT_TRUE(Proxied("example.com", "https://badexample.com"));
  EXPECT_TRUE(Proxied("example.com", "https://example.com.evil.net"));
  EXPECT_TRUE(Proxied("api.example.com", "https://example.com"));
}

TEST_F(NoProxyTest, CaseAndSpacesAndEmptyItems) {
  EXPECT_FALSE(Proxied(" foo.local , EXAMPLE.com ,,", "https://api.example.com"));
  EXPECT_FALSE(Proxied("foo.local, example.com", "https://foo.local"));
  EXPECT_FALSE(Proxied("example.com.", "https://example.com"));
}

TEST_F(NoProxyTest, Star) {
  EXPECT_FALSE(Proxied("*", "https://anything.example"));
  EXPECT_FALSE(Proxied("a.com, *", "http://b.com"));
}

TEST_F(NoProxyTest, Ports) {
  EXPECT_FALSE(Proxied("example.com:8443", "https://example.com:8443"));
  EXPECT_TRUE(Proxied("example.com:8443", "https://example.com"));
  EXPECT_FALSE(Proxied("example.com:443", "https://example.com"));
  EXPECT_TRUE(Proxied("example.com:bad", "https://example.com"));
}

TEST_F(NoProxyTest, IpAddressesAndCidr) {
  EXPECT_FALSE(Proxied("10.1.2.3", "http://10.1.2.3:8000"));
  EXPECT_TRUE(Proxied("10.1.2.3", "http://10.1.2.4:8000"));
  EXPECT_FALSE(Proxied("10.1.2.3:8000", "http://10.1.2.3:8000"));
  EXPECT_TRUE(Proxied("10.1.2.3:9000", "http://10.1.2.3:8000"));
  EXPECT_FALSE(Proxied("10.0.0.0/8", "http://10.200.3.4"));
  EXPECT_TRUE(Proxied("10.0.0.0/8", "http://11.0.0.1"));
  EXPECT_FALSE(Proxied("192.168.1.0/23", "http://192.168.0.77"));
  EXPECT_TRUE(Proxied("192.168.1.0/24", "http://192.168.0.77"));
  EXPECT_FALSE(Proxied("::1", "http://[::1]:8000"));
  EXPECT_FALSE(Proxied("[::1]:8000", "http://[::1]:8000"));
  EXPECT_TRUE(Proxied("[::1]:8000", "http://[::1]:9000"));
  EXPECT_FALSE(Proxied("fd00::/8", "http://[fd12::5]"));
  EXPECT_TRUE(Proxied("10.0.0.0/33", "http://10.0.0.1"));  // bad entry ignored
  EXPECT_TRUE(Proxied("10.0.0.0/8", "http://ten.example"));
}

TEST_F(NoProxyTest, LoopbackIsNotBypassedAutomatically) {
  EXPECT_TRUE(Proxied("", "http://127.0.0.1:8000"));
  EXPECT_TRUE(Proxied("example.com", "http://localhost:8000"));
  EXPECT_FALSE(Proxied("localhost,127.0.0.1", "http://localhost:8000"));
  EXPECT_FALSE(Proxied("localhost,127.0.0.1", "http://127.0.0.1:8000"));
}

}  // namespace
}  // namespace sy::upstream
