// The endpoint the plans of the live `run` tests send their traffic to: an idempotent
// POST /v1/payments answered 201 with a small JSON body.
#pragma once

#include <string>
#include <string_view>

namespace planproof::test {

inline std::string with_payment_endpoint(std::string_view before, std::string_view after) {
  return std::string(before) + R"(endpoints:
  - id: create
    method: POST
    path: /v1/payments
    request: {example: {amount: 1999, currency: eur}}
    response: {example: {id: pay_1}}
    statuses: {success: [201], retryable: [503], fatal: [400, 401]}
    idempotency: {header: Idempotency-Key}
)" + std::string(after);
}

}  // namespace planproof::test
