#include "resilience/retry_classifier.hpp"

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;
using core::error_class;

const std::vector<int> success{200, 201, 204};
const std::vector<plan::retry_condition> default_retry_on{429, 502, 503, 504, error_class::timeout,
                                                          error_class::connection_error};

attempt_result status(int s) { return {s}; }
attempt_result error(error_class e) { return {0, e}; }

TEST(retry_classifier, success_statuses_succeed_listed_statuses_retry_the_rest_is_fatal) {
  const retry_classifier c(success, default_retry_on);
  EXPECT_EQ(c.classify(status(201)), attempt_class::success);
  EXPECT_EQ(c.classify(status(503)), attempt_class::retryable);
  EXPECT_EQ(c.classify(status(429)), attempt_class::retryable);
  EXPECT_EQ(c.classify(status(500)), attempt_class::fatal);  // not listed: never retried on a guess
  EXPECT_EQ(c.classify(status(404)), attempt_class::fatal);
  EXPECT_EQ(c.classify(status(302)), attempt_class::fatal);
}

TEST(retry_classifier, out_of_range_statuses_are_fatal_not_a_crash) {
  const retry_classifier c({200, -1, 1000}, {429, -5, 700});
  for (int s : {-1, 0, 99, 600, 1000, 65535}) EXPECT_EQ(c.classify(status(s)), attempt_class::fatal) << s;
}

TEST(retry_classifier, umbrella_conditions_cover_the_fine_classes_clients_report) {
  const retry_classifier c(success, default_retry_on);
  for (auto e : {error_class::connect_timeout, error_class::read_timeout, error_class::connect_error,
                 error_class::reset, error_class::timeout, error_class::connection_error}) {
    EXPECT_EQ(c.classify(error(e)), attempt_class::retryable) << core::to_string(e);
  }
  for (auto e : {error_class::tls_error, error_class::protocol_error, error_class::schema_error}) {
    EXPECT_EQ(c.classify(error(e)), attempt_class::fatal) << core::to_string(e);
  }
}

TEST(retry_classifier, a_fine_condition_retries_only_itself) {
  const retry_classifier c(success, {error_class::connect_timeout, error_class::connect_error});
  EXPECT_EQ(c.classify(error(error_class::connect_timeout)), attempt_class::retryable);
  EXPECT_EQ(c.classify(error(error_class::connect_error)), attempt_class::retryable);
  EXPECT_EQ(c.classify(error(error_class::read_timeout)), attempt_class::fatal);
  EXPECT_EQ(c.classify(error(error_class::reset)), attempt_class::fatal);
}

TEST(retry_classifier, tls_errors_are_retried_only_when_listed_themselves) {
  EXPECT_EQ(retry_classifier(success, default_retry_on).classify(error(error_class::tls_error)), attempt_class::fatal);
  EXPECT_EQ(retry_classifier(success, {error_class::tls_error}).classify(error(error_class::tls_error)),
            attempt_class::retryable);
}

TEST(retry_classifier, fatal_on_wins_over_retry_on) {
  const retry_classifier c(success, {503, error_class::timeout, error_class::connection_error},
                           {error_class::read_timeout, error_class::reset, 503});
  EXPECT_EQ(c.classify(error(error_class::read_timeout)), attempt_class::fatal);
  EXPECT_EQ(c.classify(error(error_class::connect_timeout)), attempt_class::retryable);
  EXPECT_EQ(c.classify(error(error_class::reset)), attempt_class::fatal);
  EXPECT_EQ(c.classify(error(error_class::connect_error)), attempt_class::retryable);
  EXPECT_EQ(c.classify(status(503)), attempt_class::fatal);
  // An umbrella in fatal_on covers the fine classes too.
  const retry_classifier umbrella(success, {error_class::read_timeout}, {error_class::timeout});
  EXPECT_EQ(umbrella.classify(error(error_class::read_timeout)), attempt_class::fatal);
}

TEST(retry_classifier, an_error_wins_over_a_success_status) {
  // A 200 whose body breaks the endpoint's schema is a schema error, not a success.
  const retry_classifier c(success, {error_class::schema_error});
  EXPECT_EQ(c.classify({200, error_class::schema_error}), attempt_class::retryable);
  EXPECT_EQ(retry_classifier(success, {}).classify({200, error_class::schema_error}), attempt_class::fatal);
}

TEST(retry_classifier, a_refreshable_credential_turns_the_first_401_into_a_refresh) {
  const retry_classifier c(success, default_retry_on, {}, true);
  EXPECT_TRUE(c.can_refresh_credentials());
  EXPECT_EQ(c.classify(status(401)), attempt_class::refresh_auth);
  EXPECT_EQ(c.classify(status(401), true), attempt_class::fatal);  // refreshed already
  EXPECT_EQ(c.classify(status(403)), attempt_class::fatal);        // a refused permission is not a stale token
  // Listed in retry_on, a second 401 is still fatal: a fresh credential refused again is not
  // fixed by sending it a third time.
  const retry_classifier listed(success, {401, 503}, {}, true);
  EXPECT_EQ(listed.classify(status(401)), attempt_class::refresh_auth);
  EXPECT_EQ(listed.classify(status(401), true), attempt_class::fatal);
  // fatal_on: [401] says never try again, not even with a new credential.
  EXPECT_EQ(retry_classifier(success, {}, {401}, true).classify(status(401)), attempt_class::fatal);
  // Without a refreshable credential, 401 is an ordinary status.
  EXPECT_EQ(retry_classifier(success, {401}).classify(status(401)), attempt_class::retryable);
  EXPECT_EQ(retry_classifier(success, {}).classify(status(401)), attempt_class::fatal);
}

TEST(refreshable, methods_that_mint_or_fetch_credentials) {
  EXPECT_TRUE(refreshable(plan::auth_method::oauth2_client_credentials));
  EXPECT_TRUE(refreshable(plan::auth_method::jwt));
  for (auto m : {plan::auth_method::none, plan::auth_method::api_key, plan::auth_method::bearer,
                 plan::auth_method::hmac, plan::auth_method::mtls}) {
    EXPECT_FALSE(refreshable(m)) << plan::to_string(m);
  }
}

}  // namespace
}  // namespace planproof::resilience
