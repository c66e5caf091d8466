#include "core/events.hpp"

#include <gtest/gtest.h>

namespace planproof::core {
namespace {

TEST(error_class, every_named_class_round_trips_through_its_name) {
  for (auto e : named_error_classes) {
    EXPECT_EQ(parse_error_class(to_string(e)), e) << to_string(e);
  }
  EXPECT_EQ(parse_error_class("read_timeout"), error_class::read_timeout);
  EXPECT_EQ(parse_error_class("tls_error"), error_class::tls_error);
  EXPECT_FALSE(parse_error_class("none"));  // not something a plan can name
  EXPECT_FALSE(parse_error_class("Timeout"));
  EXPECT_FALSE(parse_error_class(""));
}

TEST(error_class, umbrellas_cover_their_fine_classes_and_nothing_else) {
  EXPECT_TRUE(covers(error_class::timeout, error_class::connect_timeout));
  EXPECT_TRUE(covers(error_class::timeout, error_class::read_timeout));
  EXPECT_TRUE(covers(error_class::timeout, error_class::timeout));
  EXPECT_TRUE(covers(error_class::connection_error, error_class::connect_error));
  EXPECT_TRUE(covers(error_class::connection_error, error_class::reset));
  // A TLS failure is not a connection error a plan retries by default.
  EXPECT_FALSE(covers(error_class::connection_error, error_class::tls_error));
  EXPECT_FALSE(covers(error_class::timeout, error_class::reset));
  EXPECT_FALSE(covers(error_class::connection_error, error_class::read_timeout));
  EXPECT_FALSE(covers(error_class::connection_error, error_class::protocol_error));
  // Fine conditions match only themselves, never their umbrella or their sibling.
  EXPECT_FALSE(covers(error_class::read_timeout, error_class::timeout));
  EXPECT_FALSE(covers(error_class::read_timeout, error_class::connect_timeout));
  EXPECT_FALSE(covers(error_class::reset, error_class::connect_error));
  EXPECT_FALSE(covers(error_class::schema_error, error_class::protocol_error));
  // Every class covers itself.
  for (auto e : named_error_classes) EXPECT_TRUE(covers(e, e)) << to_string(e);
}

TEST(end_reason, the_budget_reason_has_a_name) {
  EXPECT_EQ(to_string(end_reason::retry_budget_exhausted), "retry_budget_exhausted");
}

}  // namespace
}  // namespace planproof::core
