#include "server/request_id.h"

#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "server/access_log.h"

namespace sy {
namespace {

TEST(RequestId, ClientIdIsKeptWhenItIsAShortToken) {
  EXPECT_EQ(RequestIdFor("abc-123"), "abc-123");
  EXPECT_EQ(RequestIdFor("0b9f6a1e-4c1d-4f2a-9e1b-123456789abc"), "0b9f6a1e-4c1d-4f2a-9e1b-123456789abc");
  EXPECT_EQ(RequestIdFor("trace:span/1+x="), "trace:span/1+x=");
}

TEST(RequestId, AnythingElseIsReplaced) {
  for (std::string bad : {std::string(), std::string(129, 'a'), std::string("a b"), std::string("a\r\nX-Evil: 1"),
                          std::string("é"), std::string("a\"b")}) {
    const std::string id = RequestIdFor(bad);
    EXPECT_NE(id, bad);
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(IsValidRequestId(id));
  }
}

TEST(RequestId, GeneratedIdsDiffer) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(NewRequestId());
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(AccessLog, SecretQueryParametersAreRedacted) {
  // Regression: the full target, Gemini's ?key= included, went to the log.
  EXPECT_EQ(RedactTarget("/v1beta/models/x:generateContent?key=AIzaSECRET&alt=sse"),
            "/v1beta/models/x:generateContent?key=REDACTED&alt=sse");
  EXPECT_EQ(RedactTarget("/x?alt=sse&API_KEY=s1&token=s2&Access_Token=s3"),
            "/x?alt=sse&API_KEY=REDACTED&token=REDACTED&Access_Token=REDACTED");
  EXPECT_EQ(RedactTarget("/v1/models"), "/v1/models");
  EXPECT_EQ(RedactTarget("/x?keyword=fine"), "/x?keyword=fine");
}

TEST(AccessLog, ControlBytesCannotForgeLines) {
  EXPECT_EQ(RedactTarget("/a\nfake line"), "/a\\x0afake line");
  AccessRecord r;
  r.request_id = "rid1";
  r.client = "203.0.113.7";
  r.method = "GET";
  r.target = "/v1/models?key=SECRET123";
  r.status = 200;
  r.millis = 1.5;
  const std::string line = FormatAccessLine(r);
  EXPECT_EQ(line, "access id=rid1 client=203.0.113.7 GET /v1/models?key=REDACTED 200 1.500ms");
  EXPECT_EQ(line.find("SECRET123"), std::string::npos);
}

}  // namespace
}  // namespace sy

namespace sy {
namespace {

TEST(RequestId, NewIdsSortByTime) {
  const std::string a = NewRequestId();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::string b = NewRequestId();
  EXPECT_LT(a.substr(0, 12), b.substr(0, 12));
  EXPECT_LT(a, b);
  // The prefix is the current unix time in milliseconds.
  const long long ms = std::stoll(b.substr(0, 12), nullptr, 16);
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  EXPECT_LE(ms, now);
  EXPECT_GT(ms, now - 60000);
}

}  // namespace
}  // namespace sy
