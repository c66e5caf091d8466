// What the client does with an upstream's answer, on any bytes: Beast's parser with the client's
// body limit, then the status, Retry-After and the success-body check (schema, mapping, records)
// against the example plans' endpoints, and a paginated page as the pull reads it. The upstream
// is untrusted: in proxy mode it is a real one.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "client/response_mapping.hpp"
#include "plan/loader.hpp"
#include "resilience/retry_after.hpp"
#include "scenario/pull_walk.hpp"

namespace {

namespace http = boost::beast::http;
using namespace planproof;

struct checked_endpoint {
  const plan::endpoint* endpoint;
  std::unique_ptr<client::response_mapper> mapper;
};

struct targets {
  std::vector<plan::integration_plan> plans;
  std::vector<checked_endpoint> endpoints;
  targets() {
    for (const char* name : {"payments.plan.yaml", "hr-sync.plan.yaml", "salesforce-sync.plan.yaml"}) {
      plans.push_back(plan::load_file(std::filesystem::path(PLANPROOF_SOURCE_DIR) / "scenarios" / name));
    }
    for (const auto& p : plans) {
      for (const auto& e : p.endpoints) {
        if (e.direction != plan::endpoint_direction::outbound) continue;
        const plan::data_mapping* mapping = nullptr;
        for (const auto& m : p.mapping) {
          if (m.endpoint == e.id && m.direction == plan::mapping_direction::response) mapping = &m;
        }
        endpoints.push_back({&e, std::make_unique<client::response_mapper>(e, mapping)});
      }
    }
  }
};

const targets& all() {
  static const targets t;
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& t = all();
  if (size == 0) return 0;
  const auto& which = t.endpoints[data[0] % t.endpoints.size()];
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(1024 * 1024);
  boost::system::error_code ec;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (;;) {
    const auto n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(n);
    if (ec == http::error::need_more) {
      ec = {};
      if (n == 0) break;
      continue;
    }
    if (ec) return 0;
    if (parser.is_done() || rest.empty()) break;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  const auto& res = parser.get();
  if (auto ra = res.find(http::field::retry_after); ra != res.end()) {
    (void)resilience::parse_retry_after(std::string_view(ra->value().data(), ra->value().size()),
                                        std::chrono::system_clock::now());
  }
  const auto& e = *which.endpoint;
  const auto content_type = res[http::field::content_type];
  (void)client::check_success_body(e, which.mapper->active() ? which.mapper.get() : nullptr,
                                   std::string_view(content_type.data(), content_type.size()), res.body());
  if (e.pagination) (void)scenario::read_page(res.body(), *e.pagination);
  return 0;
}
