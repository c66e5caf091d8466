#include <gtest/gtest.h>

#include "core/hmac.hpp"

namespace planproof::core {
namespace {

// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
TEST(hmac, rfc4231_vectors) {
  EXPECT_EQ(hmac_hex(hmac_digest::sha256, "Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac_hex(hmac_digest::sha512, "Jefe", "what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
            "caeab1a34d4a6b4b636e070a38bce737");
}

TEST(hmac, constant_time_equal_compares_whole_strings) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("abc", "xbc"));
}

}  // namespace
}  // namespace planproof::core
