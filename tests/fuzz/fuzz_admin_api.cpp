// The mock's admin API on any request: "METHOD TARGET\nBODY". The handler is the one the admin
// listener serves; it must answer every request with a status and a JSON body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "core/clock.hpp"
#include "mocks/admin_api.hpp"
#include "mocks/server.hpp"
#include "plan/loader.hpp"

namespace {

using namespace planproof;

struct fixture {
  boost::asio::io_context io{1};
  core::plan_clock clock{core::time_scale{1.0}};
  plan::integration_plan plan =
      plan::load_file(std::filesystem::path(PLANPROOF_SOURCE_DIR) / "scenarios" / "payments.plan.yaml");
  std::unique_ptr<mocks::server> server;
  std::unique_ptr<mocks::admin_handler> handler;
  fixture() {
    std::vector<plan::fault> faults;
    mocks::admin_catalog catalog;
    catalog.routes = mocks::routes_from_plan(plan);
    for (const auto& m : plan.failure_modes) {
      catalog.failure_modes.push_back(m.id);
      for (const auto& f : m.inject) {
        faults.push_back(f);
        catalog.fault_failure_modes.push_back(m.id);
      }
    }
    server = std::make_unique<mocks::server>(io.get_executor(), clock, clock.now(), core::time_scale{1.0},
                                             catalog.routes, mocks::auth_requirement{}, faults);
    handler = std::make_unique<mocks::admin_handler>(*server, std::move(catalog));
  }
};

fixture& f() {
  static auto* x = new fixture();
  return *x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto nl = text.find('\n');
  const auto line = text.substr(0, nl);
  const auto body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  const auto space = line.find(' ');
  const auto method = line.substr(0, space);
  const auto target = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  const auto answer = f().handler->handle(method, target, body);
  if (answer.status < 200 || answer.status > 599) std::abort();
  return 0;
}
