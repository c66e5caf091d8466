// Reads a plan file (YAML, or JSON which is YAML) into the typed model, applying `--set` overrides.
// Every problem found is reported at once, compiler style, as core::diagnostic_error; no input crashes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "plan/model.hpp"

namespace planproof::plan {

// One `--set retry.max_attempts=1`. Segments are separated by '.'; a segment that crosses a list is
// either a decimal index (`endpoints.0.path`) or an element's `id`/`name` (`failure_modes.rate_limited`).
// `value` is read as YAML (`[429, 503]`, `false`); text that is not valid YAML is taken as a string,
// so `>= 0.5` works unquoted.
struct override_value {
  std::string key_path;
  std::string value;
};

// "a.b.c=VALUE" split at the first '='; nullopt when there is no '=' or the key is empty.
std::optional<override_value> parse_override(std::string_view text);

struct load_options {
  std::vector<override_value> overrides;  // applied in order, before decoding
  core::limits limits;  // `--limit`: plan_size, plan_depth, plan_nodes and concurrency apply here
};

// Both throw core::diagnostic_error holding every error found, sorted by position (values that came
// from `--set` are reported with file "--set" and last). `file_name` is used as given in diagnostics.
//
// The model is filled as model.hpp documents, plus what the plan format fixes on top of it:
// - auth.header is "X-API-Key" for api_key in a header, "Signature" for hmac and "Authorization" for
//   jwt when the plan gives none; auth.secret holds the method's main credential;
// - statuses.success is [200, 201, 202, 204] and retry.retry_on [429, 502, 503, 504, timeout,
//   connection_error] when absent;
// - an inbound endpoint's method is POST unless written; outbound-only keys (idempotency, pagination,
//   rate_limit, timeout) on an inbound endpoint and inbound-only keys (signature, dedup_key) on an
//   outbound one are errors;
// - a mapping's direction is `response` for an outbound endpoint and `request` for an inbound one;
// - examples given with a schema must satisfy it (check_against_schema); path_params, when given,
//   document exactly the path's `{name}`s;
// - `circuit_breaker: off` and `retry_budget: off` leave those features unset, so a phase can remove
//   what the plan's retry sets;
// - every failure mode without a `lost` expectation gets an implicit `lost == 0`;
// - phase::retry_settings is set only for phases with `settings.retry`: the plan's retry with those
//   keys merged in. A phase without it has nullopt and runs with the plan's retry.
integration_plan load_file(const std::filesystem::path& path, const load_options& options = {});
integration_plan load_string(std::string_view text, std::string file_name, const load_options& options = {});

}  // namespace planproof::plan
