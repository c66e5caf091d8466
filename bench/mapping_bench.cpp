// Mapping a response at run time: what a client pays per 2xx body once it checks the schema and maps
// the records, next to what parsing the body alone costs.
#include <benchmark/benchmark.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "client/response_mapping.hpp"
#include "plan/json_text.hpp"
#include "plan/loader.hpp"

namespace {

using planproof::client::received_mapping;
using planproof::client::response_mapper;

planproof::plan::integration_plan load(const std::string& name) {
  return planproof::plan::load_file(std::string(PLANPROOF_SOURCE_DIR) + "/scenarios/" + name);
}

// The endpoint's example body, its records repeated up to `records` when it is a list (0: as written).
std::string example_body(const planproof::plan::endpoint& e, std::size_t records) {
  auto body = *e.response_example;
  if (records > 0 && e.pagination) {
    auto& items = body.at(e.pagination->items).as_array();
    const auto original = items;
    items.clear();
    for (std::size_t i = 0; i < records; ++i) items.push_back(original[i % original.size()]);
  }
  return planproof::plan::json_text(body);
}

// hr-sync's list_employees is the heaviest mapping of the examples: 20 fields, regexes, enum maps,
// concat, two timestamps, unmapped: reject; its schema has patterns and formats on every record.
void map_response(benchmark::State& state, const std::string& plan, const std::string& endpoint, bool with_mapping) {
  const auto p = load(plan);
  const auto& e = *p.find_endpoint(endpoint);
  const response_mapper mapper(e, with_mapping ? received_mapping(p, e) : nullptr);
  const auto body = example_body(e, static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto r = mapper.map(body);
    if (!r.ok()) state.SkipWithError(r.summary().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
  state.counters["records"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(mapper.map(body).records),
      benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(map_response, hr_list_employees, std::string("hr-sync.plan.yaml"), std::string("list_employees"), true)
    ->Arg(0)
    ->Arg(200);
BENCHMARK_CAPTURE(map_response, hr_list_employees_schema_only, std::string("hr-sync.plan.yaml"),
                  std::string("list_employees"), false)
    ->Arg(0)
    ->Arg(200);
BENCHMARK_CAPTURE(map_response, salesforce_query_contacts, std::string("salesforce-sync.plan.yaml"),
                  std::string("query_contacts"), true)
    ->Arg(0);
BENCHMARK_CAPTURE(map_response, payments_create_payment, std::string("payments.plan.yaml"),
                  std::string("create_payment"), true)
    ->Arg(0);

// The floor: parsing the same body, as the client does today to tell a truncated body.
void parse_only(benchmark::State& state) {
  const auto p = load("hr-sync.plan.yaml");
  const auto body = example_body(*p.find_endpoint("list_employees"), static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    boost::json::monotonic_resource arena;
    boost::system::error_code ec;
    benchmark::DoNotOptimize(boost::json::parse(body, ec, &arena));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(parse_only)->Arg(0)->Arg(200);

// Building the mapper: paid once per endpoint, not per response.
void build_mapper(benchmark::State& state) {
  const auto p = load("hr-sync.plan.yaml");
  const auto& e = *p.find_endpoint("list_employees");
  for (auto _ : state) benchmark::DoNotOptimize(response_mapper(e, received_mapping(p, e)));
}
BENCHMARK(build_mapper);

}  // namespace
