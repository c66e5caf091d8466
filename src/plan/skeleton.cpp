#include "plan/skeleton.hpp"

#include <cctype>

namespace planproof::plan {

std::string env_prefix(std::string_view name) {
  std::string out;
  for (char c : name) {
    out += std::isalnum(static_cast<unsigned char>(c)) != 0 ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '_';
  }
  return out.empty() ? "UPSTREAM" : out;
}

namespace {

// Quoted for YAML, so any name or system is a valid scalar.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string skeleton_tail(std::string_view name, std::string_view endpoint_id, std::string_view entity) {
  std::string out;
  out += "# 3. Data mapping: how the system's fields become ours, and what happens to the rest.\n";
  out += "mapping:\n";
  out += "  - endpoint: " + std::string(endpoint_id) + "\n";
  out += "    direction: response\n";
  out += "    unmapped: ignore                         # ignore | reject | preserve (with preserve_to)\n";
  out += "    fields:\n";
  out += "      - {source: id, target: " + std::string(entity) + ".external_id, type: string, required: true}\n";
  out += "      - {source: name, target: " + std::string(entity) + ".name, type: string, transform: trim}\n\n";
  out += "# 4. Retry logic. Every condition in retry_on is exercised by a failure mode below.\n";
  out += "retry:\n";
  out += "  max_attempts: 4\n";
  out += "  backoff: {strategy: exponential, base: 200ms, max: 5s, jitter: full}\n";
  out += "  retry_on: [429, 502, 503, 504, timeout]\n";
  out += "  retry_after: {honor: true, cap: 20s}            # below timeouts.total\n";
  out += "  timeouts: {connect: 1s, read: 5s, total: 30s}   # 4 x (1s + 5s) + backoff fits in 30s\n";
  out += "  dead_letter: {path: dead-letter/" + std::string(name) + ".jsonl}\n\n";
  out += "# The traffic `planproof run` sends during each failure mode.\n";
  out += "traffic: {endpoint: " + std::string(endpoint_id) + ", rate: 10/s, concurrency: 8, duration: 60s}\n\n";
  out += "# 5. Failure modes: what can go wrong, how it is detected and handled, and what must hold.\n";
  out += "failure_modes:\n";
  out += "  - id: rate_limited\n";
  out += "    description: \"TODO: when and why the system throttles us\"\n";
  out += "    inject: {fault: status, status: 429, retry_after: 2s, probability: 0.2, during: [10s, 40s]}\n";
  out += "    detection: \"TODO: the metric or log that shows it\"\n";
  out += "    response: \"TODO: what the integration does at once\"\n";
  out += "    recovery: \"TODO: how it gets back to normal\"\n";
  out += "    alerting: \"TODO: who is told, when\"\n";
  out += "    user_impact: \"TODO: what users notice\"\n";
  out += "    expect: {success_rate: \">= 0.99\", max_attempts: \"<= 4\", honors_retry_after: true, lost: 0}\n";
  out += "  - id: upstream_errors\n";
  out += "    description: \"TODO: the gateway errors the system answers with during incidents\"\n";
  out += "    inject:\n";
  out += "      - {fault: status, status: 502, probability: 0.1, during: [20s, 30s]}\n";
  out += "      - {fault: status, status: 503, probability: 0.1, during: [20s, 30s]}\n";
  out += "      - {fault: status, status: 504, probability: 0.1, during: [20s, 30s]}\n";
  out += "    detection: \"TODO\"\n";
  out += "    response: \"TODO\"\n";
  out += "    recovery: \"TODO\"\n";
  out += "    alerting: \"TODO\"\n";
  out += "    user_impact: \"TODO\"\n";
  out += "    expect: {success_rate: \">= 0.99\", max_attempts: \"<= 4\", lost: 0}\n";
  out += "  - id: hung_requests\n";
  out += "    description: \"TODO: requests the system accepts and never answers\"\n";
  out += "    inject: {fault: hang, probability: 0.1, during: [10s, 30s]}\n";
  out += "    detection: \"TODO\"\n";
  out += "    response: \"TODO\"\n";
  out += "    recovery: \"TODO\"\n";
  out += "    alerting: \"TODO\"\n";
  out += "    user_impact: \"TODO\"\n";
  out += "    expect: {success_rate: \">= 0.99\", max_attempts: \"<= 4\", lost: 0}\n\n";
  out += "# 6. Phase 1 vs phase 2.\n";
  out += "phases:\n";
  out += "  - name: phase1\n";
  out += "    deliverables: [\"TODO: the smallest useful integration\"]\n";
  out += "    complexity: medium\n";
  out += "    dependencies: [\"TODO: sandbox access, credentials\"]\n";
  out += "    risks: [\"TODO\"]\n";
  out += "    success_criteria: [\"TODO: measurable\"]\n";
  out += "    failure_modes: [rate_limited, upstream_errors]\n";
  out += "  - name: phase2\n";
  out += "    deliverables: [\"TODO: what phase 1 leaves out\"]\n";
  out += "    complexity: medium\n";
  out += "    dependencies: [phase1]\n";
  out += "    risks: [\"TODO\"]\n";
  out += "    success_criteria: [\"TODO: measurable\"]\n";
  out += "    triggers: [\"TODO: what makes phase 2 necessary\"]\n";
  out += "    failure_modes: [rate_limited, upstream_errors, hung_requests]\n";
  out += "    # Retries must not multiply load during a long outage: a budget caps them.\n";
  out += "    settings:\n";
  out += "      retry:\n";
  out += "        retry_budget: {ratio: 20%, min_per_second: 5}\n\n";
  out += "verification:\n";
  out += "  - \"TODO: e.g. planproof run in CI on every change to the plan\"\n";
  return out;
}

std::string skeleton_plan(std::string_view name, std::string_view system) {
  const std::string env = env_prefix(name);
  const std::string sys = system.empty() ? std::string("TODO: the external system") : std::string(system);
  std::string out;
  out += "# Integration plan for " + std::string(name) + ". Every TODO is yours to fill in; `planproof lint`\n";
  out += "# lists what is left, `planproof render` turns the plan into a document, `planproof run` checks it.\n";
  out += "planproof: 1\n\n";
  out += "integration:\n";
  out += "  name: " + quoted(name) + "\n";
  out += "  system: " + quoted(sys) + "\n";
  out += "  base_url: https://api.example.com        # TODO: the external system's base URL\n";
  out += "  description: \"TODO: what the integration does and why\"\n\n";
  out += "# State what you assume when the external API's documentation does not say.\n";
  out += "assumptions:\n";
  out += "  - \"TODO: e.g. the API applies a POST once per Idempotency-Key for 24 hours\"\n\n";
  out += "# 1. Auth method: none | api_key | bearer | oauth2_client_credentials | hmac | mtls | jwt.\n";
  out += "# Secrets are references only (env:NAME or file:PATH), never the secret itself.\n";
  out += "auth:\n";
  out += "  method: api_key\n";
  out += "  header: X-API-Key\n";
  out += "  key: env:" + env + "_API_KEY\n";
  out += "  rotation: 90d\n";
  out += "  security_notes: [\"TODO: who may read the key, where it is stored\"]\n\n";
  out += "# 2. Endpoint specs: one entry per call (direction: inbound for webhooks the system sends us).\n";
  out += "endpoints:\n";
  out += "  - id: create_item                         # TODO: one entry per endpoint\n";
  out += "    description: \"TODO: what this call does\"\n";
  out += "    method: POST\n";
  out += "    path: /v1/items\n";
  out += "    request:\n";
  out += "      example: {name: example}\n";
  out += "    response:\n";
  out += "      status: 201\n";
  out += "      example: {id: item_1, name: example}\n";
  out += "    statuses: {success: [200, 201], retryable: [429, 502, 503, 504], fatal: [400, 401, 403, 404, 422]}\n";
  out += "    idempotency: {header: Idempotency-Key}\n\n";
  out += skeleton_tail(name, "create_item", "item");
  return out;
}

}  // namespace planproof::plan
