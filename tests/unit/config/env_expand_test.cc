#include "config/env_expand.h"

#include <gtest/gtest.h>

#include <map>

namespace sy::config {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct Expanded {
  bool ok;
  std::string text;
  std::vector<std::string> errors;
};

Expanded Expand(const std::string& text, std::map<std::string, std::string> vars = {}) {
  Expanded e;
  e.ok = ExpandEnv(text, FakeEnv(std::move(vars)), &e.text, &e.errors);
  return e;
}

TEST(EnvExpandTest, PlainTextIsUnchanged) {
  Expanded e = Expand("https://api.openai.com/v1");
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "https://api.openai.com/v1");
}

TEST(EnvExpandTest, WholeValueIsReplaced) {
  Expanded e = Expand("${KEY}", {{"KEY", "sk-123"}});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "sk-123");
}

TEST(EnvExpandTest, ReferencesInsideTextAreReplaced) {
  Expanded e = Expand("Bearer ${A}-${B}!", {{"A", "x"}, {"B", "y"}});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "Bearer x-y!");
}

TEST(EnvExpandTest, EmptyValueExpandsToEmpty) {
  Expanded e = Expand("a${EMPTY}b", {{"EMPTY", ""}});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "ab");
}

TEST(EnvExpandTest, MissingVariableIsAnErrorNamingIt) {
  Expanded e = Expand("${OPENAI_API_KEY}");
  EXPECT_FALSE(e.ok);
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_NE(e.errors[0].find("OPENAI_API_KEY"), std::string::npos);
  EXPECT_NE(e.errors[0].find("not set"), std::string::npos);
}

TEST(EnvExpandTest, EveryMissingVariableIsReported) {
  Expanded e = Expand("${A}:${B}:${C}", {{"B", "b"}});
  EXPECT_FALSE(e.ok);
  ASSERT_EQ(e.errors.size(), 2u);
  EXPECT_NE(e.errors[0].find(" A "), std::string::npos);
  EXPECT_NE(e.errors[1].find(" C "), std::string::npos);
}

TEST(EnvExpandTest, LoneDollarIsLeftAlone) {
  Expanded e = Expand("cost: $5, end$", {});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "cost: $5, end$");
}

TEST(EnvExpandTest, DoubleDollarIsLeftAlone) {
  Expanded e = Expand("pa$$word $$", {});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "pa$$word $$");
}

TEST(EnvExpandTest, DollarDollarBraceIsAnEscapeForALiteralReference) {
  Expanded e = Expand("$${NOT_LOOKED_UP}", {});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "${NOT_LOOKED_UP}");
}

TEST(EnvExpandTest, DollarWithoutBraceBeforeAName) {
  Expanded e = Expand("$HOME", {{"HOME", "/root"}});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "$HOME");
}

TEST(EnvExpandTest, UnterminatedReferenceIsAnError) {
  Expanded e = Expand("abc${KEY", {{"KEY", "v"}});
  EXPECT_FALSE(e.ok);
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_NE(e.errors[0].find("unterminated"), std::string::npos);
}

TEST(EnvExpandTest, InvalidNamesAreErrors) {
  for (const char* text : {"${}", "${1X}", "${A-B}", "${A B}", "${A:-default}"}) {
    Expanded e = Expand(text, {{"A", "a"}});
    EXPECT_FALSE(e.ok) << text;
    ASSERT_EQ(e.errors.size(), 1u) << text;
    EXPECT_NE(e.errors[0].find("invalid variable reference"), std::string::npos) << text;
  }
}

TEST(EnvExpandTest, ValuesAreNotExpandedAgain) {
  Expanded e = Expand("${A}", {{"A", "${B}"}, {"B", "no"}});
  EXPECT_TRUE(e.ok);
  EXPECT_EQ(e.text, "${B}");
}

TEST(EnvExpandTest, ErrorsNeverContainValues) {
  Expanded e = Expand("${SECRET}${MISSING}", {{"SECRET", "sk-very-secret"}});
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].find("sk-very-secret"), std::string::npos);
}

TEST(EnvExpandTest, ValidNames) {
  EXPECT_TRUE(IsValidEnvName("A"));
  EXPECT_TRUE(IsValidEnvName("_a1"));
  EXPECT_TRUE(IsValidEnvName("OPENAI_API_KEY"));
  EXPECT_FALSE(IsValidEnvName(""));
  EXPECT_FALSE(IsValidEnvName("1A"));
  EXPECT_FALSE(IsValidEnvName("A.B"));
}

}  // namespace
}  // namespace sy::config
