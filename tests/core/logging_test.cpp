#include "core/logging.hpp"
#include "core/secret.hpp"

#include <cstdlib>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

namespace planproof::core {
namespace {

TEST(secret_ref, parses_env_and_file_references_only) {
  auto env = parse_secret_ref("env:PAY_KEY");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->from, secret_ref::source::env);
  EXPECT_EQ(env->name, "PAY_KEY");
  auto file = parse_secret_ref("file:/run/secrets/key");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->from, secret_ref::source::file);
  EXPECT_FALSE(parse_secret_ref("sk_live_abc"));
  EXPECT_FALSE(parse_secret_ref("env:"));
}

TEST(secret_ref, unset_variable_is_an_error_not_an_empty_secret) {
  ::unsetenv("PLANPROOF_TEST_UNSET_SECRET");
  auto r = resolve_secret({secret_ref::source::env, "PLANPROOF_TEST_UNSET_SECRET"});
  EXPECT_FALSE(r.value);
  EXPECT_NE(r.error.find("PLANPROOF_TEST_UNSET_SECRET"), std::string::npos);
}

TEST(secret_ref, a_secret_file_every_user_can_read_is_refused) {
  const auto path = std::filesystem::temp_directory_path() / ("planproof-secret-" + std::to_string(::getpid()));
  {
    std::ofstream(path) << "whsec_file_secret\n";
  }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                         std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  auto r = resolve_secret({secret_ref::source::file, path.string()});
  EXPECT_FALSE(r.value);
  EXPECT_NE(r.error.find("is readable by every user (mode 0644)"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("chmod o-r"), std::string::npos) << r.error;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  r = resolve_secret({secret_ref::source::file, path.string()});
  ASSERT_TRUE(r.value) << r.error;
  EXPECT_EQ(*r.value, "whsec_file_secret");
  std::filesystem::remove(path);
}

TEST(redaction, resolved_secret_never_reaches_a_log_line) {
  ::setenv("PLANPROOF_TEST_SECRET", "sk_test_4242424242", 1);
  auto r = resolve_secret({secret_ref::source::env, "PLANPROOF_TEST_SECRET"});
  ASSERT_TRUE(r.value);

  std::ostringstream out;
  auto logger = make_redacting_logger("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_pattern("%v");
  logger->warn("sending Authorization: Bearer {} to upstream", *r.value);
  logger->flush();
  EXPECT_EQ(out.str().find("sk_test_4242424242"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("Bearer [redacted] to upstream"), std::string::npos) << out.str();
  EXPECT_EQ(redact("x sk_test_4242424242 y sk_test_4242424242"), "x [redacted] y [redacted]");
}

}  // namespace
}  // namespace planproof::core
