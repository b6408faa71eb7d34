// LoadConfigFile, the shipped example files, and the SplitTarget/SplitListen
// helpers. Every test uses a fake EnvLookup, never the process environment.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <map>

#include "config/config.h"

namespace sy::config {
namespace {

namespace fs = std::filesystem;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string Describe(const LoadResult& r) {
  std::string out;
  for (const ConfigError& e : r.errors) out += e.path + ": " + e.message + "\n";
  return out;
}

fs::path ExamplesDir() { return fs::path(__FILE__).parent_path() / "../../../examples"; }

// A file in a fresh temporary directory, removed with the fixture.
class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sy_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(ConfigFileTest, LoadsAFileAndRecordsItsPath) {
  const std::string path = Write("c.yaml", "server: {auth: none, listen: \"127.0.0.1:0\"}\n");
  LoadResult r = LoadConfigFile(path, FakeEnv({}));
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->source_path, path);
  EXPECT_EQ(r.config->server.listen, "127.0.0.1:0");
}

TEST_F(ConfigFileTest, MissingFileIsADocumentError) {
  LoadResult r = LoadConfigFile((dir_ / "absent.yaml").string(), FakeEnv({}));
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "(document)");
  EXPECT_NE(r.errors[0].message.find("absent.yaml"), std::string::npos) << r.errors[0].message;
}

TEST_F(ConfigFileTest, DirectoryIsADocumentError) {
  LoadResult r = LoadConfigFile(dir_.string(), FakeEnv({}));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("directory"), std::string::npos) << r.errors[0].message;
}

TEST_F(ConfigFileTest, ErrorsInAFileHaveKeyPaths) {
  const std::string path = Write("bad.yaml", "server: {auth: none, threads: -1}\n");
  LoadResult r = LoadConfigFile(path, FakeEnv({}));
  ASSERT_EQ(r.errors.size(), 1u) << Describe(r);
  EXPECT_EQ(r.errors[0].path, "server.threads");
}

// The quick start serves local models offline: no variable, no key, no network.
TEST(ExampleFilesTest, QuickStartExampleNeedsNoEnvironmentAndServesLocalModels) {
  LoadResult r = LoadConfigFile((ExamplesDir() / "switchyard.yaml").string(), FakeEnv({}));
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_EQ(r.config->server.auth, AuthMode::kNone);
  EXPECT_EQ(r.config->server.listen, "127.0.0.1:8080");
  ASSERT_EQ(r.config->providers.size(), 1u);
  EXPECT_EQ(r.config->providers[0].type, "local");
  EXPECT_EQ(r.config->providers[0].local.models_dir, "../models");
  EXPECT_EQ(r.config->limits.ip_rpm, 60u);
  EXPECT_TRUE(r.config->models.empty());
}

// The quick-start file's commented-out OpenAI provider, uncommented as its
// comments tell the reader to (the lines that are YAML once "# " goes), must
// be a valid config.
TEST(ExampleFilesTest, QuickStartProviderLinesWorkWhenUncommented) {
  std::ifstream in(ExamplesDir() / "switchyard.yaml");
  const std::regex yaml_line(R"(^\s*(- )?[a-z_]+:( .*)?$)");
  std::string text, line;
  bool in_block = false;
  int uncommented = 0;
  while (std::getline(in, line)) {
    in_block = in_block || line.find("# To add OpenAI") != std::string::npos;
    const size_t hash = line.find("# ");
    if (in_block && hash != std::string::npos && line.find_first_not_of(' ') == hash) {
      std::string open = line.substr(0, hash) + line.substr(hash + 2);
      if (std::regex_match(open, yaml_line)) {
        line = open;
        ++uncommented;
      }
    }
    text += line + "\n";
  }
  ASSERT_TRUE(in_block) << "no \"# To add OpenAI\" line in the quick-start example";
  EXPECT_EQ(uncommented, 9) << text;
  LoadResult r = LoadConfigString(text, FakeEnv({{"OPENAI_API_KEY", "sk-test"}}));
  ASSERT_TRUE(r.config) << Describe(r) << text;
  ASSERT_EQ(r.config->providers.size(), 2u);
  EXPECT_EQ(r.config->providers[1].keys[0].value, "sk-test");
  ASSERT_EQ(r.config->models.size(), 1u);
  EXPECT_EQ(r.config->models[0].provider, "openai");
}

TEST(ExampleFilesTest, FullExampleLoadsWithItsVariablesSet) {
  const std::map<std::string, std::string> vars = {
      {"SWITCHYARD_ADMIN_KEY", "a"}, {"DEV_KEY", "d"},           {"CI_KEY", "c"},
      {"OPENAI_API_KEY", "o1"},      {"OPENAI_API_KEY_2", "o2"}, {"OPENROUTER_API_KEY", "r"},
      {"ANTHROPIC_API_KEY", "an"},   {"GEMINI_API_KEY", "g"}};
  LoadResult r = LoadConfigFile((ExamplesDir() / "switchyard.full.yaml").string(), FakeEnv(vars));
  ASSERT_TRUE(r.config) << Describe(r);
  EXPECT_FALSE(r.config->providers.empty());
  EXPECT_FALSE(r.config->models.empty());
}

TEST(ExampleFilesTest, FullExampleNamesItsMissingVariables) {
  LoadResult r = LoadConfigFile((ExamplesDir() / "switchyard.full.yaml").string(), FakeEnv({}));
  ASSERT_FALSE(r.config);
  bool named = false;
  for (const ConfigError& e : r.errors) {
    named = named || e.message.find("OPENAI_API_KEY") != std::string::npos;
  }
  EXPECT_TRUE(named) << Describe(r);
}

TEST(SplitTargetTest, SlashForm) {
  std::string provider, model;
  ASSERT_TRUE(SplitTarget("openai/gpt-4o", &provider, &model));
  EXPECT_EQ(provider, "openai");
  EXPECT_EQ(model, "gpt-4o");
}

TEST(SplitTargetTest, SplitsAtTheFirstSlash) {
  std::string provider, model;
  ASSERT_TRUE(SplitTarget("openrouter/meta-llama/llama-3", &provider, &model));
  EXPECT_EQ(provider, "openrouter");
  EXPECT_EQ(model, "meta-llama/llama-3");
}

TEST(SplitTargetTest, SchemeFormWins) {
  std::string provider, model;
  ASSERT_TRUE(SplitTarget("local://org/model:7b", &provider, &model));
  EXPECT_EQ(provider, "local");
  EXPECT_EQ(model, "org/model:7b");
}

TEST(SplitTargetTest, RejectsMissingParts) {
  std::string provider, model;
  for (const char* bad : {"", "gpt-4o", "/m", "p/", "://m", "p://", "/"}) {
    EXPECT_FALSE(SplitTarget(bad, &provider, &model)) << bad;
  }
}

TEST(SplitListenTest, HostAndPort) {
  std::string host;
  uint16_t port = 1;
  ASSERT_TRUE(SplitListen("127.0.0.1:8080", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(SplitListen("localhost:0", &host, &port));
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(SplitListen("0.0.0.0:65535", &host, &port));
  EXPECT_EQ(port, 65535);
}

TEST(SplitListenTest, BracketedIpv6) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitListen("[::1]:8080", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(SplitListen("[::]:9", &host, &port));
  EXPECT_EQ(host, "::");
}

TEST(SplitListenTest, RejectsMalformed) {
  std::string host;
  uint16_t port = 0;
  for (const char* bad :
       {"", "8080", ":8080", "host:", "host:65536", "host:-1", "host:+1", "::1:8080", "[::1]",
        "[::1]:", "[::1]8080", "[host]:80", "a b:80", "host:123456"}) {
    EXPECT_FALSE(SplitListen(bad, &host, &port)) << bad;
  }
}

TEST(ProcessEnvTest, UnsetVariableIsNullopt) {
  EXPECT_FALSE(ProcessEnv()("SWITCHYARD_TEST_VARIABLE_THAT_IS_NEVER_SET"));
}

}  // namespace
}  // namespace sy::config
