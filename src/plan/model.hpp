// The integration plan as loaded: every field typed, every default written here next to the field,
// and the source location of each element kept for diagnostics and lint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
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
  std::string description;
  source_location where;
};

// A value the plan may write plainly or name by reference (`env:NAME`, `file:PATH`): a header value,
// an OAuth client id. At most one of the two is set (neither when the plan gives no value).
struct text_or_secret {
  std::string text;
  std::optional<core::secret_ref> secret;
  source_location where;
};

enum class auth_method { none, api_key, bearer, oauth2_client_credentials, hmac, mtls, jwt };
std::string_view to_string(auth_method m) noexcept;
std::optional<auth_method> parse_auth_method(std::string_view s) noexcept;
// Whether `run` can drive this method today (mtls over HTTPS mocks only: `run --tls DIR`).
bool is_supported(auth_method m) noexcept;

enum class api_key_location { header, query };
std::string_view to_string(api_key_location l) noexcept;

struct oauth2_client_credentials_config {
  std::string token_url;     // required: a path on base_url or an absolute URL
  text_or_secret client_id;  // empty when the plan gives none
  std::vector<std::string> scopes;
  std::string audience;
  duration refresh_before_expiry = 60s;  // fetch a new token this long before the current one ends
  duration token_lifetime = 1h;          // what the mock token endpoint issues / what the plan assumes
  source_location where;
};

enum class hmac_algorithm { sha256, sha512 };
std::string_view to_string(hmac_algorithm a) noexcept;
enum class signed_component { method, path, query, timestamp, body, host };
std::string_view to_string(signed_component c) noexcept;

struct hmac_auth_config {
  hmac_algorithm algorithm = hmac_algorithm::sha256;
  // What the signature covers, in signing order; never empty.
  std::vector<signed_component> signed_components{signed_component::method, signed_component::path,
                                                  signed_component::timestamp, signed_component::body};
  std::string timestamp_header = "X-Timestamp";
  duration tolerance = 5min;  // clock skew the server accepts
  source_location where;
};

struct mtls_config {
  core::secret_ref client_cert;        // required; normally file:PATH (PEM)
  core::secret_ref client_key;         // required; normally file:PATH (PEM)
  std::optional<core::secret_ref> ca;  // the CA the server certificate must chain to; none = system store
  source_location where;
};

enum class jwt_algorithm { HS256, RS256, ES256 };
std::string_view to_string(jwt_algorithm a) noexcept;

struct jwt_config {
  jwt_algorithm algorithm = jwt_algorithm::RS256;
  std::map<std::string, std::string> claims;  // iss, sub, aud... as written
  duration lifetime = 5min;                   // exp - iat of each token minted
  source_location where;
};

struct auth_config {
  auth_method method = auth_method::none;
  // The header carrying the credential: api_key with `in: header` (default X-API-Key), hmac (default
  // Signature), jwt (default Authorization). Empty for the other methods.
  std::string header;
  // The method's main credential: api_key `key`, bearer `token`, oauth2 `client_secret`, hmac `secret`,
  // jwt `signing_key`. Not set for none and mtls (see mtls->client_key).
  std::optional<core::secret_ref> secret;
  api_key_location key_in = api_key_location::header;  // api_key only
  std::string query_param;                             // api_key with `in: query`: required
  // Every method but none may document these (none takes security_notes: why no credential is needed).
  std::optional<duration> rotation;  // how often the credential is rotated, e.g. 90d
  std::vector<std::string> required_scopes;
  std::vector<std::string> security_notes;
  // Set for their own method only.
  std::optional<oauth2_client_credentials_config> oauth2;
  std::optional<hmac_auth_config> hmac;
  std::optional<mtls_config> mtls;
  std::optional<jwt_config> jwt;
  source_location where;
};

struct status_classes {
  std::vector<int> success;    // default [200, 201, 202, 204] when the plan gives none
  std::vector<int> retryable;  // documentation of the API; the client retries what retry.retry_on says
  std::vector<int> fatal;
};

// Outbound: we call the external system. Inbound: it calls us (webhooks).
enum class endpoint_direction { outbound, inbound };
std::string_view to_string(endpoint_direction d) noexcept;

enum class param_type { string, integer, number, boolean };
std::string_view to_string(param_type t) noexcept;

// A path or query parameter.
struct parameter_spec {
  std::string name;
  param_type type = param_type::string;
  bool required = false;                      // query parameters; path parameters are always required
  std::optional<boost::json::value> example;  // checked against `type`
  std::string description;
  source_location where;
};

enum class versioning_style { header, path, query };
std::string_view to_string(versioning_style s) noexcept;

struct versioning_config {
  versioning_style style = versioning_style::header;
  std::string name;   // the header (style header) or query parameter (style query); empty for path
  std::string value;  // the version pinned, e.g. 2024-06-20 or v59.0; for style path it is in `path`
  source_location where;
};

enum class pagination_style { cursor, page, offset, link_header };
std::string_view to_string(pagination_style s) noexcept;

// Field paths are dotted names in the response body (`data.items`).
struct pagination_config {
  pagination_style style = pagination_style::cursor;
  std::string param;        // query parameter carrying the cursor/page/offset; empty for link_header
  std::string limit_param;  // query parameter carrying the page size
  std::optional<int> max_page_size;
  std::string has_more;     // field telling whether another page follows
  std::string next_cursor;  // cursor style: field holding the next cursor
  std::string items;        // field holding the page's records
  // Records in the collection the mock upstream serves; none = three pages of the default page size.
  std::optional<int> collection;
  // cursor and link_header: a continuation whose cursor the upstream refuses (a 4xx such as an
  // expired query locator) restarts the read from the first page instead of failing it.
  bool restart_on_invalid_cursor = false;
  // `on_page_shift: refetch`: the client drops the records of a page it already read in this pull,
  // and fetches the page again when it comes back short (fewer records than asked while more
  // follow) or holding records already read; a page is fetched at most retry.max_attempts times.
  // false (`ignore`): every record of every page is taken as it comes.
  bool refetch_on_page_shift = false;
  source_location where;
};

enum class signature_scheme { hmac_sha256, hmac_sha512 };
std::string_view to_string(signature_scheme s) noexcept;

// How an inbound request proves it comes from the external system.
struct signature_config {
  signature_scheme scheme = signature_scheme::hmac_sha256;
  std::string header;            // required: the header carrying the signature
  core::secret_ref secret;       // required
  duration tolerance = 5min;     // oldest timestamp accepted (replay window)
  std::string timestamp_header;  // empty when the timestamp is inside the signature header
  source_location where;
};

struct endpoint {
  std::string id;
  std::string description;
  endpoint_direction direction = endpoint_direction::outbound;
  std::string method = "GET";  // POST for inbound endpoints
  std::string path;
  std::vector<std::string> path_params;           // the `{name}`s of `path`, in order
  std::vector<parameter_spec> path_param_specs;   // as documented, in path order; empty when not given
  std::map<std::string, text_or_secret> headers;  // sent with every request (outbound) / expected (inbound)
  std::vector<parameter_spec> query;
  // Request and response schemas are a JSON Schema subset (see check_against_schema); examples, when
  // given with a schema, satisfy it.
  std::optional<boost::json::value> request_schema;
  std::optional<boost::json::value> request_example;
  std::optional<boost::json::value> response_schema;
  std::optional<boost::json::value> response_example;
  int response_status = 0;  // status the mock answers with; 0 = first success status
  std::map<std::string, std::string> response_headers;  // name -> what it carries
  status_classes statuses;
  std::optional<std::string> idempotency_header;
  // Outbound only.
  std::optional<double> rate_limit;  // documented limit, requests per second
  std::optional<pagination_config> pagination;
  std::optional<duration> timeout;  // read timeout for this endpoint instead of retry.timeouts.read
  std::optional<versioning_config> versioning;
  // Inbound only.
  std::optional<signature_config> signature;
  std::string dedup_key;  // field path that identifies an event across redeliveries
  source_location where;

  int success_status() const noexcept {
    if (response_status != 0) return response_status;
    return statuses.success.empty() ? 200 : statuses.success.front();
  }
};

// --- data mapping ------------------------------------------------------------------------------------

enum class mapping_direction { response, request };
std::string_view to_string(mapping_direction d) noexcept;
// What happens to source fields no mapping names.
enum class unmapped_policy { ignore, reject, preserve };
std::string_view to_string(unmapped_policy p) noexcept;

enum class field_type { string, integer, number, boolean, timestamp, date, currency, enum_, object, array };
std::string_view to_string(field_type t) noexcept;  // "enum" for enum_

enum class transform_kind {
  rename,  // a marker: the value moves from source to target unchanged
  lowercase,
  uppercase,
  trim,
  unix_to_rfc3339,
  rfc3339_to_unix,
  currency_upper,
  enum_map,
  scale,
  concat,
};
std::string_view to_string(transform_kind k) noexcept;

struct transform_step {
  transform_kind kind = transform_kind::rename;
  std::vector<std::pair<std::string, std::string>> enum_map;  // enum_map: from -> to, as written
  double factor = 1.0;                                        // scale
  std::vector<std::string> sources;                           // concat: two or more field paths
  std::string separator = " ";                                // concat
  source_location where;
};

// Checks on the mapped value. `validate: ">= 0"` sets min; the map form sets any of them.
struct field_validation {
  std::optional<double> min;
  bool min_exclusive = false;
  std::optional<double> max;
  bool max_exclusive = false;
  std::optional<std::string> regex;         // ECMAScript, searched (not anchored)
  std::vector<boost::json::value> allowed;  // `enum`: scalars
  std::optional<int> min_length;
  std::optional<int> max_length;
  source_location where;
};

struct field_mapping {
  std::string source;  // dotted field path; empty when `default` or a concat step gives the value
  std::string target;  // dotted field path; unique within the mapping
  field_type type = field_type::string;
  bool required = false;
  std::optional<boost::json::value> default_value;  // a scalar, used when the source is absent
  std::vector<transform_step> transform;            // applied in order; concat only first
  std::optional<field_validation> validate;
  source_location where;
};

struct data_mapping {
  std::string endpoint;                                       // an endpoint id
  mapping_direction direction = mapping_direction::response;  // request for inbound endpoints
  unmapped_policy unmapped = unmapped_policy::ignore;         // the plan must say (no default in the format)
  std::string preserve_to;  // unmapped: preserve: target path the unmapped fields are kept under
  std::vector<field_mapping> fields;
  source_location where;
};

// --- retry ---------------------------------------------------------------------------------------------

// The ceiling of the wait before retry n (n = 1 after the first attempt), capped by `max`:
// constant: base; linear: base * n (grows by base per retry); exponential: base * multiplier^(n-1).
enum class backoff_strategy { constant, linear, exponential };
// How the wait is drawn below the ceiling t: none: t; full: uniform in [0, t]; equal: t/2 + uniform
// in [0, t/2]; decorrelated: min(max, uniform in [base, 3 * previous wait]), the previous wait being
// base before the first retry (AWS "Exponential Backoff and Jitter"; it ignores the strategy).
enum class jitter_kind { none, full, equal, decorrelated };
std::string_view to_string(backoff_strategy s) noexcept;
std::string_view to_string(jitter_kind j) noexcept;

struct backoff_config {
  backoff_strategy strategy = backoff_strategy::exponential;
  duration base = 100ms;
  duration max = 10s;
  jitter_kind jitter = jitter_kind::full;
  double multiplier = 2.0;  // exponential: the ceiling grows by this factor per retry; > 1
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

// Retries may add at most `ratio` of the first attempts, with a floor for quiet periods (Finagle's
// RetryBudget and its defaults): a retry is allowed while the retries of the last `ttl` stay within
// ratio * first attempts of the last `ttl` + min_per_second * ttl.
struct retry_budget_config {
  double ratio = 0.2;
  double min_per_second = 10;
  duration ttl = 10s;  // how long a deposit (a first attempt) counts
  source_location where;
};

enum class breaker_window { count, time };
std::string_view to_string(breaker_window w) noexcept;

// What opens a closed breaker. Exactly one per breaker; the plan picks it by the keys it writes.
enum class breaker_mode {
  failure_rate,           // failure (or slow-call) share of a sliding window, once min_calls are in it
  consecutive_failures,   // N failures in a row
  failures_per_interval,  // N failures within any `interval`
};
std::string_view to_string(breaker_mode m) noexcept;

struct slow_call_config {
  duration threshold;  // required: a call slower than this counts as slow
  double rate = 1.0;   // open when this share of the window is slow; in (0, 1]
  source_location where;
};

struct failures_per_interval_config {
  int count = 5;            // failures...
  duration interval = 10s;  // ...within this long open the breaker
  source_location where;
};

struct circuit_breaker_config {
  breaker_mode mode = breaker_mode::failure_rate;
  // failure_rate mode
  breaker_window window = breaker_window::count;
  int size = 20;              // count window: the last N calls
  duration time_size = 60s;   // time window: the calls of the last period
  double failure_rate = 0.5;  // open when this share of the window failed...
  int min_calls = 10;         // ...and the window holds at least this many calls
  std::optional<slow_call_config> slow_call;
  // consecutive_failures mode
  int consecutive_failures = 5;
  // failures_per_interval mode
  failures_per_interval_config failures_per_interval;
  // every mode
  duration open_for = 30s;  // then half-open
  int half_open_calls = 3;  // trial calls while half-open
  // A half-open breaker whose trial calls have not all reported back this long after it went
  // half-open opens again, so a lost result never leaves it stuck. The default is twice retry's
  // default total timeout: a trial call bounded by its own deadline reports back well before.
  duration half_open_max_wait = 60s;
  source_location where;
};

enum class idempotency_approach { header, natural_key, none };
std::string_view to_string(idempotency_approach a) noexcept;

// How a retried write avoids a duplicate effect.
struct idempotency_config {
  idempotency_approach approach = idempotency_approach::header;
  std::string notes;
  source_location where;
};

struct retry_config {
  int max_attempts = 3;  // attempts in all, the first included
  backoff_config backoff;
  std::vector<retry_condition> retry_on;  // default [429, 502, 503, 504, timeout, connection_error]
  // Never retried, whatever retry_on says (read_timeout here beats timeout there); never repeats or covers retry_on.
  std::vector<retry_condition> fatal_on;
  retry_after_policy retry_after;
  timeout_config timeouts;
  std::string dead_letter_path = "dead-letter.jsonl";
  std::optional<retry_budget_config> retry_budget;        // none: no budget
  std::optional<circuit_breaker_config> circuit_breaker;  // none: `off` or not given
  std::optional<idempotency_config> idempotency;
  source_location where;
};

// How the traffic's requests arrive. Open loop (constant, ramp, burst): on a schedule the plan
// sets, whatever the upstream does (traffic_profile.hpp computes it). Closed loop: `concurrency`
// workers, each sending its next request once its last has ended, so the upstream sets the pace.
enum class traffic_profile { constant, ramp, burst, closed_loop };
std::string_view to_string(traffic_profile p) noexcept;

// `length` of `rate` every `every`, the first starting `at` after traffic start.
struct traffic_burst {
  double rate = 0;  // requests per second inside a burst, above the base rate
  core::duration every = 0s;
  core::duration length = 0s;  // < every
  core::duration at = 0s;
};

// Deliveries of an inbound endpoint during a run: the provider creates events at `rate` over the
// traffic's duration (or its own) and delivers them, with the failure mode's webhook faults, to the
// receiver the plan describes.
struct webhook_stream {
  std::string endpoint;  // an inbound endpoint id; required
  double rate = 10.0;    // events per second of plan time
  std::optional<core::duration> duration;  // none: the traffic's duration
  int in_flight = 8;     // deliveries awaiting an answer at once
  source_location where;
};

struct traffic_config {
  std::string endpoint;  // endpoint id; required
  traffic_profile profile = traffic_profile::constant;
  // Logical requests per second: constant's rate, ramp's at the end, burst's base rate between
  // bursts; closed_loop ignores it.
  double rate = 10.0;
  double from = 0;               // ramp: the rate at the start
  traffic_burst burst;           // burst
  core::duration think_time = 0s;  // closed_loop: a worker's pause between one request's end and the next
  int concurrency = 8;   // logical requests in flight at most (closed_loop: the workers)
  core::duration duration = 30s;
  std::vector<webhook_stream> webhooks;  // inbound streams beside the outbound traffic
  source_location where;
};

// A stretch of plan time since traffic start: [from, to).
struct time_window {
  duration from = 0ms;
  std::optional<duration> to;  // none = until the end
  bool contains(duration t) const noexcept { return t >= from && (!to || t < *to); }
};

enum class latency_distribution { fixed, uniform, lognormal };
std::string_view to_string(latency_distribution d) noexcept;

// How long a `latency` fault delays the answer: `latency: 100ms`, or a distribution.
struct latency_spec {
  latency_distribution distribution = latency_distribution::fixed;
  duration value = 0ms;               // fixed
  duration min = 0ms, max = 0ms;      // uniform: [min, max]
  duration median = 0ms;              // lognormal: exp(N(ln median, sigma))...
  double sigma = 0.5;
  std::optional<duration> cap;        // ...cut at cap (any distribution)

  // The longest delay it can draw: what a read timeout must be compared with.
  duration upper_bound() const noexcept;
};

enum class retry_after_format { seconds, http_date };
std::string_view to_string(retry_after_format f) noexcept;

// How a `malformed` fault breaks a successful answer.
enum class malformation { truncated, invalid_utf8, wrong_content_type, wrong_content_length };
std::string_view to_string(malformation m) noexcept;

// How a `pagination` fault breaks a page (see mocks/pagination.hpp for what each does on the wire).
enum class page_breakage { invalid_cursor, short_page, repeated_page, shifted_page };
std::string_view to_string(page_breakage b) noexcept;

enum class outage_mode { status, reset };
std::string_view to_string(outage_mode m) noexcept;

// What a `tls` fault does to a connection's handshake (the mock must serve HTTPS).
enum class handshake_fault {
  expired_certificate,             // the server certificate's validity has ended
  wrong_host_certificate,          // the server certificate names another host
  untrusted_certificate,           // the server certificate chains to a CA the client does not trust
  no_client_certificate_required,  // mTLS expected, but no client certificate is asked for
  reject_client_certificate,       // a client certificate is asked for and every one is refused
};
std::string_view to_string(handshake_fault h) noexcept;

// A field path of the response example and what schema drift does to it.
struct field_rename {
  std::string from, to;
};
struct field_retype {
  std::string field;
  std::string type;  // string | number | integer | boolean | null | object | array
};

// What the mock upstream does to a request. Which requests: those in one of the windows, on the
// endpoint, picked by the count selectors, then with `probability`. What: depends on `kind`; the
// fields of other kinds keep their defaults. A `tls` fault picks connections instead (its
// selectors count connections), since the handshake comes before any request names an endpoint.
struct fault {
  std::string kind;  // a catalog name (catalog.hpp)

  // --- which requests (every kind) ---
  double probability = 1.0;               // per request, drawn from the seeded generator
  std::vector<time_window> during;        // plan time since traffic start; empty = the whole run
  std::optional<std::uint64_t> first;     // only the first N requests in scope ("fail N times, then succeed")
  std::optional<std::uint64_t> every;     // only every Nth request in scope
  std::optional<std::uint64_t> after;     // only once N requests in scope have passed
  std::optional<std::string> endpoint;    // only this endpoint; none = every endpoint

  // --- what (by kind) ---
  int status = 503;                        // status (required); outage (status mode); rate_limit (the loader sets 429);
                                           // pagination invalid_cursor (the loader sets 400)
  std::optional<duration> retry_after;     // status, outage: Retry-After sent
  retry_after_format retry_after_as = retry_after_format::seconds;
  latency_spec latency;                    // latency
  malformation malformed = malformation::truncated;  // malformed
  int chunks = 10;                         // slow_body: the body in this many pieces...
  duration over = 1s;                      // ...spread over this long
  std::optional<std::size_t> after_bytes;  // close: body bytes sent before the close; none = half
  std::vector<std::string> drop;           // schema_drift: fields removed
  std::vector<field_rename> rename;        // schema_drift: fields renamed
  std::vector<field_retype> retype;        // schema_drift: fields given a value of another type
  std::vector<std::string> add;            // schema_drift: fields the example does not have, added
  double limit = 10;                       // rate_limit: requests per second...
  int burst = 0;                           // ...with this bucket size (0 = one second's worth)
  std::string limit_key = "credential";    // rate_limit: credential | global | header:NAME
  outage_mode outage = outage_mode::status;  // outage
  std::optional<duration> up, down;        // outage: flapping, down first; none = down throughout
  // auth_expiry: tokens issued while the fault is in scope stop working after this long (while
  // announcing the full lifetime); none = each request it hits has its credential revoked there.
  std::optional<duration> expire_after;
  std::optional<duration> delay;           // token_endpoint_down: a slow answer (with or without a status)
  page_breakage breakage = page_breakage::invalid_cursor;  // pagination (required in the plan)
  std::string error_code;                  // pagination, invalid_cursor: code in the error body; empty = invalid_cursor
  handshake_fault tls = handshake_fault::expired_certificate;  // tls (required)

  // A fault kind this build cannot run yet keeps its parameters as written (`copies: 2`), so the
  // document and lint can still read them.
  boost::json::object params;
  source_location where;

  // Where the fault first applies: the earliest window start (0 when always).
  duration starts_at() const noexcept;
};

// `success_rate: ">= 0.99"`, `lost: 0`, `honors_retry_after: true`.
enum class comparison { eq, ne, lt, le, gt, ge };
std::string_view to_string(comparison c) noexcept;

struct expectation {
  std::string name;
  comparison op = comparison::eq;
  double value = 0;    // numbers and ratios; booleans are 1/0 with op eq; rates per second
  bool boolean = false;
  std::string word;    // text expectations (detected_as): the error class or status, op eq
  std::string text;    // as written in the plan, for the report
  bool implicit = false;  // added by planproof (lost: 0), not written in the plan
  source_location where;
};

struct observability_config {
  std::vector<std::string> logs;
  std::string correlation_id;  // how one request is followed across systems
  std::vector<std::string> metrics;
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
  std::string degradation;  // what still works while the fault lasts
  std::optional<observability_config> observability;
  std::string consistency;   // what state the two systems are left in
  std::string compensation;  // how a half-done operation is undone or completed
  std::vector<fault> inject;
  std::vector<expectation> expect;
  // This failure mode's own traffic: its `traffic` keys merged over the plan's; none = the plan's.
  std::optional<traffic_config> traffic;
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
  // The phase's acceptance tests: the failure modes that must hold for it to be done (ids; empty = all).
  std::vector<std::string> failure_modes;
  std::optional<retry_config> retry_settings;     // the plan's retry with this phase's `settings.retry` applied
  source_location where;
};

// How `planproof sim` models the upstream beyond the plan's faults (`run` ignores this section).
struct sim_capacity {
  int workers = 8;                 // requests served at once
  int queue = 64;                  // requests that may wait; one more is shed
  duration service_time = 20ms;    // each request's work
  int shed_status = 503;           // the answer to a request shed
};
struct sim_contention {
  int status = 409;  // the answer to a write that lost: another write landed since its read
};
struct sim_config {
  duration network_delay = 1ms;  // each way of nothing: added to every answer
  std::optional<sim_capacity> capacity;
  std::optional<sim_contention> contention;
};

struct integration_plan {
  std::string file;
  int version = 1;
  integration_info integration;
  std::vector<std::string> assumptions;
  std::vector<std::string> verification;  // how the integration is verified beyond `run`
  auth_config auth;
  std::vector<endpoint> endpoints;
  std::vector<data_mapping> mapping;
  retry_config retry;
  traffic_config traffic;
  std::vector<failure_mode> failure_modes;
  std::vector<phase> phases;
  sim_config sim;
  // What the file (or --set) wrote, by path: `retry.max_attempts`, `failure_modes[2].inject[0].status`,
  // `phases[1].settings.retry`. A scalar is located at its value, a map or list at its key, a list
  // item at the item. Defaults are not here: `has` tells what the plan wrote itself.
  struct written_node {
    source_location where;
    std::optional<std::string> scalar;  // the text as written, for scalars
  };
  std::map<std::string, written_node, std::less<>> written;

  bool has(std::string_view path) const;
  // Where `path` was written, or where its nearest written ancestor was (`retry.backoff.base` falls
  // back to `retry.backoff`, then `retry`); the file alone when nothing on the way was written.
  source_location locate(std::string_view path) const;

  const endpoint* find_endpoint(std::string_view id) const noexcept;
  // The traffic a failure mode runs: its own, else the plan's.
  const traffic_config& traffic_for(const failure_mode& f) const noexcept { return f.traffic ? *f.traffic : traffic; }
  const failure_mode* find_failure_mode(std::string_view id) const noexcept;
  const phase* find_phase(std::string_view name) const noexcept;
};

// --- JSON Schema subset -------------------------------------------------------------------------------
//
// Endpoint schemas use these keywords: type (string, integer, number, boolean, object, array, null, or a
// list of them), properties, required, items, enum, const, format, minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, minLength, maxLength, pattern, minItems, maxItems, additionalProperties (bool or
// schema), description, default, nullable, oneOf, anyOf, allOf and $ref (local: `#` or `#/...`). The
// loader rejects anything else, so the checker below can assume a well-formed schema.

struct schema_mismatch {
  std::vector<std::variant<std::string, std::size_t>> at;  // path to the value: object keys, array indices
  std::string message;                                     // e.g. "expected integer, got string"

  // "amount", "items[2].id"; empty at the root.
  std::string path() const;
  // "amount: expected integer, got string"; "items[2].id: ..."; just the message at the root.
  std::string str() const;
};

// Every way `value` fails `schema` (empty when it conforms). Formats date-time, date, email and uuid
// are checked; other formats are annotations. A $ref that does not resolve is a mismatch. `pattern` is
// not tried on strings over 1000 characters (std::regex recurses per character).
std::vector<schema_mismatch> check_against_schema(const boost::json::value& schema,
                                                  const boost::json::value& value);

// The value a local $ref (`#`, `#/properties/a`, with ~0 and ~1 escapes) names in `root`; null when
// it names nothing.
const boost::json::value* resolve_local_ref(const boost::json::value& root, std::string_view ref);

// What running `mode` would need that this version cannot execute, as short reasons (empty: it can
// run). The two-argument form judges the plan's own retry; pass a phase's effective retry otherwise.
// Auth mtls and `tls` faults can run, over HTTPS mocks; whether a run has them is the runner's to say.
std::vector<std::string> unsupported_features(const integration_plan& plan, const failure_mode& mode);
std::vector<std::string> unsupported_features(const integration_plan& plan, const failure_mode& mode,
                                              const retry_config& retry);

}  // namespace planproof::plan
