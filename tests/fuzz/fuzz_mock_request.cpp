// The mock upstream on any bytes a client sends: one connection per input to a real mock on
// 127.0.0.1 (the example plans' routes, an API key to check, an error fault drawn on some
// requests), the input written, the sending side closed, everything the mock answers read until
// it closes. The mock must answer or close, never crash, hang or grow; its record keeps one fate
// per request.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "core/clock.hpp"
#include "mocks/server.hpp"
#include "plan/loader.hpp"

namespace {

using namespace planproof;
using namespace std::chrono_literals;

struct running_mock {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  core::plan_clock clock{core::time_scale{1.0}};
  std::unique_ptr<mocks::server> server;
  std::thread thread;

  running_mock() {
    std::vector<mocks::route> routes;
    for (const char* name : {"payments.plan.yaml", "hr-sync.plan.yaml"}) {
      const auto plan = plan::load_file(std::filesystem::path(PLANPROOF_SOURCE_DIR) / "scenarios" / name);
      for (auto& r : mocks::routes_from_plan(plan)) routes.push_back(std::move(r));
    }
    plan::fault error;
    error.kind = "status";
    error.params = boost::json::object{{"status", 503}};
    error.probability = 0.2;
    mocks::server_options options;
    options.single_threaded_executor = true;
    // Short bounds: an input that stops mid-request is closed by the client side anyway.
    options.request_timeout = 2s;
    options.idle_timeout = 2s;
    options.linger_timeout = 100ms;
    server = std::make_unique<mocks::server>(io.get_executor(), clock, clock.now(), core::time_scale{1.0},
                                             std::move(routes), mocks::auth_requirement{"X-API-Key", "fuzz-key"},
                                             std::vector<plan::fault>{error}, options);
    if (server->listen()) std::abort();
    thread = std::thread([this] { io.run(); });
  }
};

running_mock& mock() {
  static auto* m = new running_mock();  // lives for the process: the fuzzer exits without destructors
  return *m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& m = mock();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  timeval deadline{5, 0};  // real time: a mock that neither answers nor closes is a hang
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline);
  // Thousands of connections a second leave their ports in TIME_WAIT: each comes from another
  // address of 127.0.0.0/8, so that the four-tuples never run out.
  static std::uint32_t connections = 0;
  const std::uint32_t n = connections++ & 0xffff;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl((127u << 24) | ((1 + (n >> 8)) << 8) | (n & 0xff));
  ::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(m.server->port());
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
    if (errno == ECONNREFUSED) std::abort();  // the mock stopped listening
    ::close(fd);  // out of local ports or descriptors: the machine's limit, not the mock's
    return 0;
  }
  std::size_t sent = 0;
  while (sent < size) {
    const auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the mock closed early (a request it refused): fine
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[16 * 1024];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) std::abort();  // neither answered nor closed
    break;  // closed (or reset)
  }
  ::close(fd);
  return 0;
}
