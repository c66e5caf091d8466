// The integration plan as loaded: every field typed, every default written here next to the field,
// and the source location of each element kept for diagnostics and lint.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

#include "core/diagnostic.hpp"
#include "core/events.hpp"
#include "core/secret.hpp"
#include "core/units.hpp"

namespace planproof::plan {

using core::duration;
using core::source_location;
using namespace std::chrono_literals;

struct integration_info {
  std::string name;  // required; names the report
  std::string system;
  std::string base_url;
  std::vector<std::string> assumptions;
  source_location where;
};

enum class auth_method { none, api_key, bearer, oauth2_client_credentials, hmac, mtls, jwt };
std::string_view to_string(auth_method m) noexcept;
std::optional<auth_method> parse_auth_method(std::string_view s) noexcept;
// Whether `run` can drive this method today.
bool is_supported(auth_method m) noexcept;

struct auth_config {
  auth_method method = auth_method::none;
  std::string header;                     // api_key: header carrying the key (default X-API-Key)
  std::optional<core::secret_ref> secret; // api_key: `key`, bearer: `token`
  source_location where;
};

struct status_classes {
  std::vector<int> success;    // default [200, 201, 202, 204] when the plan gives none
  std::vector<int> retryable;  // documentation of the API; the client retries what retry.retry_on says
  std::vector<int> fatal;
};

struct endpoint {
  std::string id;
  std::string method = "GET";
  std::string path;
  std::optional<boost::json::value> request_example;
  std::optional<boost::json::value> response_example;
  int response_status = 0;  // status the mock answers with; 0 = first success status
  status_classes statuses;
  std::optional<std::string> idempotency_header;
  source_location where;

  int success_status() const noexcept {
    if (response_status != 0) return response_status;
    return statuses.success.empty() ? 200 : statuses.success.front();
  }
};

enum class backoff_strategy { constant, exponential };
enum class jitter_kind { none, full };
std::string_view to_string(backoff_strategy s) noexcept;
std::string_view to_string(jitter_kind j) noexcept;

struct backoff_config {
  backoff_strategy strategy = backoff_strategy::exponential;
  duration base = 100ms;
  duration max = 10s;
  jitter_kind jitter = jitter_kind::full;
};

struct retry_after_policy {
  bool honor = true;
  duration cap = 60s;  // a longer Retry-After ends the request rather than retrying early
};

struct timeout_config {
  duration connect = 2s;
  duration read = 10s;
  duration total = 30s;  // from the first attempt to the end of the logical request
};

// A condition the client retries on: an HTTP status or an error class.
using retry_condition = std::variant<int, core::error_class>;

struct retry_config {
  int max_attempts = 3;  // attempts in all, the first included
  backoff_config backoff;
  std::vector<retry_condition> retry_on;  // default [429, 502, 503, 504, timeout, connection_error]
  retry_after_policy retry_after;
  timeout_config timeouts;
  std::string dead_letter_path = "dead-letter.jsonl";
  source_location where;
};

struct traffic_config {
  std::string endpoint;  // endpoint id; required
  double rate = 10.0;    // logical requests per second
  int concurrency = 8;   // logical requests in flight at most
  core::duration duration = 30s;
  source_location where;
};

// What the mock upstream does to a request. Fields used depend on `kind`.
struct fault {
  std::string kind;  // status | latency | hang | malformed | (later issues add more)
  int status = 503;                       // status
  std::optional<duration> retry_after;    // status: Retry-After sent (whole seconds, rounded up)
  duration latency = 0ms;                 // latency: added before the normal answer
  std::string malformed = "truncated";    // malformed: how the body is broken
  double probability = 1.0;               // per request, drawn from the seeded generator
  duration from = 0ms;                    // window start, plan time since traffic start
  std::optional<duration> to;             // window end; none = until the end
  std::optional<std::string> endpoint;    // only this endpoint; none = every endpoint
  source_location where;
};

// `success_rate: ">= 0.99"`, `lost: 0`, `honors_retry_after: true`.
enum class comparison { eq, ne, lt, le, gt, ge };
std::string_view to_string(comparison c) noexcept;

struct expectation {
  std::string name;
  comparison op = comparison::eq;
  double value = 0;    // numbers and ratios; booleans are 1/0 with op eq
  bool boolean = false;
  std::string text;    // as written in the plan, for the report
  bool implicit = false;  // added by planproof (lost: 0), not written in the plan
  source_location where;
};

struct failure_mode {
  std::string id;
  std::string description;
  std::string detection;
  std::string response;
  std::string recovery;
  std::string alerting;
  std::string user_impact;
  std::vector<fault> inject;
  std::vector<expectation> expect;
  source_location where;
};

struct phase {
  std::string name;
  std::vector<std::string> deliverables;
  std::string complexity;
  std::vector<std::string> dependencies;
  std::vector<std::string> risks;
  std::vector<std::string> success_criteria;
  std::vector<std::string> triggers;
  std::vector<std::string> failure_modes;  // ids; empty = all
  std::optional<retry_config> retry_settings;     // the plan's retry with this phase's `settings.retry` applied
  source_location where;
};

struct integration_plan {
  std::string file;
  int version = 1;
  integration_info integration;
  auth_config auth;
  std::vector<endpoint> endpoints;
  retry_config retry;
  traffic_config traffic;
  std::vector<failure_mode> failure_modes;
  std::vector<phase> phases;

  const endpoint* find_endpoint(std::string_view id) const noexcept;
  const failure_mode* find_failure_mode(std::string_view id) const noexcept;
  const phase* find_phase(std::string_view name) const noexcept;
};

}  // namespace planproof::plan
