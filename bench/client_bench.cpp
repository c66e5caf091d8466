// The client under test driving a mock stub with keep-alive: 32 logical requests in flight on one
// thread, as `wrk -t1 -c32` drives the same mock (bench/client_vs_wrk.sh runs both). Each request
// goes through the whole client: retry state, idempotency key, X-Request-Id, the response checked
// against the endpoint's example shape, events folded.
//
// PLANPROOF_BENCH_UPSTREAM=HOST:PORT measures against a running `planproof serve`; otherwise an
// in-process mock on its own thread serves the stub.
#include <cstdlib>
#include <thread>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "client/http_client.hpp"
#include "mocks/server.hpp"

namespace {

namespace asio = boost::asio;
using namespace planproof;
using namespace std::chrono_literals;

constexpr const char* stub_body =
    R"({"items":[{"id":1,"name":"alpha","price":9.99,"tags":["a","b"]},{"id":2,"name":"beta","price":19.5,"tags":["c"]},{"id":3,"name":"gamma","price":0.5,"tags":[]}],"total":3,"page":1,"next":"cursor-0001"})";

struct counting_sink final : core::event_sink {
  std::uint64_t completed = 0, succeeded = 0;
  void on_event(const core::event& e) override {
    if (e.kind == core::event_kind::request_completed) {
      ++completed;
      succeeded += e.outcome == core::request_outcome::succeeded ? 1 : 0;
    }
  }
};

struct loop {
  client::http_client& client;
  const plan::endpoint* endpoint;
  std::uint64_t& next;
  std::uint64_t last;

  asio::awaitable<void> run() {
    while (next < last) {
      client::logical_request request{++next, endpoint, ""};
      co_await client.execute(std::move(request));
    }
  }
};

void client_keep_alive(benchmark::State& state) {
  const int in_flight = static_cast<int>(state.range(0));
  constexpr std::uint64_t per_iteration = 5000;

  core::time_scale scale{1.0};
  core::plan_clock clock(scale);
  plan::endpoint endpoint;
  endpoint.id = "items";
  endpoint.method = "GET";
  endpoint.path = "/v1/items";
  endpoint.response_example = boost::json::parse(stub_body);
  endpoint.statuses.success = {200};
  plan::retry_config retry;
  retry.max_attempts = 3;

  asio::io_context upstream_io(1);
  std::unique_ptr<mocks::server> upstream;
  std::thread upstream_thread;
  asio::ip::tcp::endpoint target;
  if (const char* at = std::getenv("PLANPROOF_BENCH_UPSTREAM"); at != nullptr && *at != '\0') {
    const std::string text(at);
    const auto colon = text.rfind(':');
    target = {asio::ip::make_address(text.substr(0, colon)),
              static_cast<unsigned short>(std::stoi(text.substr(colon + 1)))};
  } else {
    mocks::route r{endpoint.id, endpoint.method, endpoint.path, 200, stub_body};
    upstream = std::make_unique<mocks::server>(upstream_io.get_executor(), clock, clock.now(), scale,
                                               std::vector<mocks::route>{r}, mocks::auth_requirement{},
                                               std::vector<plan::fault>{},
                                               mocks::server_options{.single_threaded_executor = true, .max_records = 0});
    if (upstream->listen()) {
      state.SkipWithError("cannot listen on 127.0.0.1");
      return;
    }
    target = {asio::ip::make_address("127.0.0.1"), upstream->port()};
    upstream_thread = std::thread([&] { upstream_io.run(); });
  }

  client::dead_letter_queue dead_letters("/dev/null");
  (void)dead_letters.open();
  counting_sink sink;
  resilience::seeded_random rng(1);
  client::client_options options;
  options.upstream = target;
  options.host = target.address().to_string() + ":" + std::to_string(target.port());
  options.max_idle_connections = static_cast<std::size_t>(in_flight);

  asio::io_context io(1);
  client::http_client client(io.get_executor(), options, retry, {endpoint}, clock, scale, sink, dead_letters, rng);
  std::uint64_t next = 0;
  std::vector<std::unique_ptr<loop>> loops;
  for (auto _ : state) {
    const auto last = next + per_iteration;
    loops.clear();
    for (int i = 0; i < in_flight; ++i) {
      loops.push_back(std::make_unique<loop>(loop{client, &endpoint, next, last}));
      asio::co_spawn(io, loops.back()->run(), asio::detached);
    }
    io.restart();
    io.run();
  }
  client.close();
  state.SetItemsProcessed(static_cast<std::int64_t>(sink.completed));
  state.counters["succeeded"] = benchmark::Counter(static_cast<double>(sink.succeeded));
  state.counters["failed"] = benchmark::Counter(static_cast<double>(sink.completed - sink.succeeded));
  if (upstream) {
    upstream->stop();
    upstream_thread.join();
  }
}
BENCHMARK(client_keep_alive)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
