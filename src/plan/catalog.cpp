#include "plan/catalog.hpp"

#include <algorithm>
#include <array>

namespace planproof::plan {
namespace {

constexpr std::array faults{
    catalog_entry{"status", true, "answer with a status code, optionally with Retry-After (seconds or HTTP-date)"},
    catalog_entry{"latency", true, "delay the normal answer: fixed, uniform or lognormal with a cap"},
    catalog_entry{"hang", true, "never answer; the client must time out"},
    catalog_entry{"reset", true, "reset the TCP connection (RST) after reading the request"},
    catalog_entry{"empty_reply", true, "close the connection (FIN) after reading the request, answering nothing"},
    catalog_entry{"close", true, "send the headers and part of the body, then close the connection"},
    catalog_entry{"slow_body", true, "send the headers at once and dribble the body in chunks"},
    catalog_entry{"malformed", true, "break a successful answer: truncated JSON, invalid UTF-8, wrong Content-Type or Content-Length"},
    catalog_entry{"schema_drift", true, "drop, rename or re-type fields of the example body"},
    catalog_entry{"rate_limit", true, "token-bucket rate limiting per credential, with 429, Retry-After and RateLimit headers"},
    catalog_entry{"outage", true, "every request fails in the window (a status, or connection resets), optionally flapping"},
    catalog_entry{"auth_expiry", true, "credentials revoked (401 invalid_token), or OAuth tokens that expire early"},
    catalog_entry{"token_endpoint_down", true, "the OAuth token endpoint fails or is slow"},
    catalog_entry{"tls", true, "fail the TLS handshake: an expired, wrong-host or untrusted server certificate, or a client certificate not asked for or refused"},
    catalog_entry{"pagination", true, "break a page of a paginated endpoint: invalid or expired cursor, short, repeated or shifted page"},
    catalog_entry{"duplicate_delivery", true, "webhook delivered twice or more", true},
    catalog_entry{"out_of_order", true, "webhook events held back so later ones overtake them", true},
    catalog_entry{"bad_signature", true, "webhook with a wrong, stale, missing or malformed signature", true},
    catalog_entry{"burst", true, "extra webhook events at a burst rate", true},
};

constexpr std::array expectations{
    catalog_entry{"success_rate", true, "share of logical requests that succeeded", false, expectation_value::ratio},
    catalog_entry{"max_attempts", true, "most upstream attempts spent on one logical request", false, expectation_value::count},
    catalog_entry{"honors_retry_after", true, "no retry sent before the Retry-After it answered", false, expectation_value::boolean},
    catalog_entry{"lost", true, "logical requests with no recorded end (0 unless the plan says otherwise)", false, expectation_value::count},
    catalog_entry{"dead_lettered", true, "logical requests written to the dead-letter file", false, expectation_value::count},
    catalog_entry{"no_duplicate_effects", true, "no side effect applied twice for one logical request", false, expectation_value::boolean},
    catalog_entry{"breaker_opens", true, "the circuit breaker opens", false, expectation_value::boolean},
    catalog_entry{"fails_fast", true, "no upstream calls while the breaker is open", false, expectation_value::boolean},
    catalog_entry{"recovers_within", true, "success resumes within a time after the fault ends", false, expectation_value::duration},
    catalog_entry{"token_refreshes", true, "token refreshes", false, expectation_value::count},
    catalog_entry{"no_auth_failures_leaked", true, "no 401 reaches the caller", false, expectation_value::boolean},
    catalog_entry{"detected_as", true, "the failure the client saw most: an error class or a status", false, expectation_value::text},
    catalog_entry{"p50_latency", true, "median logical request latency", false, expectation_value::duration},
    catalog_entry{"p99_latency", true, "99th percentile logical request latency", false, expectation_value::duration},
    catalog_entry{"upstream_amplification", true, "upstream attempts per logical request", false, expectation_value::factor},
    catalog_entry{"peak_upstream_rate", true, "most attempts sent in one second once the faults ended: no thundering herd after recovery", false, expectation_value::rate},
    catalog_entry{"mapping_valid", true, "responses map onto the plan's targets", false, expectation_value::boolean},
    catalog_entry{"processed_exactly_once", true,
                  "inbound webhook events, or the records of a paginated pull, each processed exactly once", false,
                  expectation_value::boolean},
    catalog_entry{"rejects_bad_signatures", true, "bad webhook signatures rejected", false, expectation_value::boolean},
    catalog_entry{"no_secret_in_logs", true, "no secret of the run, in any form it travels in, in what the run wrote", false,
                  expectation_value::boolean},
};

const catalog_entry* find_in(std::span<const catalog_entry> entries, std::string_view name) noexcept {
  auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == name; });
  return it == entries.end() ? nullptr : &*it;
}

}  // namespace

std::span<const catalog_entry> fault_catalog() noexcept { return faults; }
std::span<const catalog_entry> expectation_catalog() noexcept { return expectations; }
const catalog_entry* find_fault(std::string_view name) noexcept { return find_in(faults, name); }
const catalog_entry* find_expectation(std::string_view name) noexcept { return find_in(expectations, name); }

}  // namespace planproof::plan
