// End to end: `planproof run --tls DIR` drives HTTPS mocks (mTLS for auth mtls) built from the
// certificates tools/gen-certs wrote, handshake faults included, and each plan's weakened twin
// is reported broken. Without --tls the same failure modes are skipped, saying what to do.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

namespace fs = std::filesystem;

// The PKI the tls_pki ctest fixture made (PLANPROOF_TEST_PKI), or one made here once per process
// when the binary is run by hand.
const fs::path& pki() {
  static const fs::path dir = [] {
    if (const char* env = std::getenv("PLANPROOF_TEST_PKI"); env != nullptr && *env != '\0') return fs::path(env);
    static test::temp_dir made;
    const auto r = test::run_shell(test::source_dir() + "/tools/gen-certs '" + made.path().string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return made.path();
  }();
  return dir;
}

test::process_result planproof(const test::temp_dir& dir, const std::string& args) {
  return test::run_shell("cd '" + dir.path().string() + "' && " + test::planproof_executable() + " " + args);
}

void write(const fs::path& file, std::string_view text) { std::ofstream(file) << text; }

// A copy of the PKI in `to`, to break one file of it.
void copy_pki(const fs::path& to) {
  fs::create_directories(to);
  for (const auto& f : fs::directory_iterator(pki())) fs::copy_file(f.path(), to / f.path().filename());
}

boost::json::object failure_mode(const fs::path& report, std::string_view id) {
  const auto v = boost::json::parse(test::read_file(report));
  for (const auto& f : v.at("failure_modes").as_array()) {
    if (f.at("id").as_string() == id) return f.as_object();
  }
  ADD_FAILURE() << "no failure mode " << id;
  return {};
}

std::int64_t count(const boost::json::object& mode, std::string_view map, std::string_view key) {
  const auto& m = mode.at("metrics").at(map).as_object();
  const auto* v = m.if_contains(key);
  return v == nullptr ? 0 : v->as_int64();
}

// The upstream's certificate is swapped for one from a CA the client does not trust for the
// first 3 seconds: every connection opened then fails its handshake (tls_error), whatever it
// carries. Retried with waits of 1s, 2s and 4s, every request gets past the window; with
// tls_error fatal, the requests of those seconds end in the dead-letter file. (The client pools
// its connections, so the window must start before any handshake succeeds: later it would only
// meet new connections.)
constexpr std::string_view rotation_plan = R"(planproof: 1
integration: {name: tls-rotation}
auth: {method: none, security_notes: [a loopback test plan with no credential]}
endpoints:
  - id: list
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry:
  max_attempts: 4
  backoff: {strategy: exponential, base: 1s, multiplier: 2, max: 4s, jitter: none}
  retry_on: [503, timeout, tls_error]
  dead_letter: {path: dead.jsonl}
traffic: {endpoint: list, rate: 10/s, concurrency: 8, duration: 10s}
failure_modes:
  - id: bad_certificate_rollout
    inject: {fault: tls, tls: untrusted_certificate, during: [0s, 3s]}
    expect: {success_rate: ">= 0.99", dead_lettered: 0}
)";

// auth mtls: the mocks require a client certificate. The plan's own files are for the real
// upstream (and do not exist here); the run stands DIR/client.pem in for them.
constexpr std::string_view mtls_plan = R"(planproof: 1
integration: {name: mtls-sync}
auth: {method: mtls, client_cert: file:/etc/mtls-sync/client.pem, client_key: file:/etc/mtls-sync/client.key}
endpoints:
  - id: list
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry:
  max_attempts: 4
  backoff: {strategy: exponential, base: 1s, multiplier: 2, max: 4s, jitter: none}
  retry_on: [503, timeout, tls_error]
  dead_letter: {path: dead.jsonl}
traffic: {endpoint: list, rate: 10/s, concurrency: 8, duration: 10s}
failure_modes:
  - id: client_certificate_refused
    inject: {fault: tls, tls: reject_client_certificate, during: [0s, 3s]}
    expect: {success_rate: ">= 0.99", dead_lettered: 0}
  - id: certificate_not_asked_for
    inject: {fault: tls, tls: no_client_certificate_required}
    expect: {success_rate: ">= 0.99"}
  - id: upstream_errors
    inject: {fault: status, status: 503, first: 10}
    expect: {success_rate: ">= 0.99", dead_lettered: 0}
)";

TEST(cli_run_tls, a_tls_fault_in_a_window_is_retried_through_and_its_twin_is_broken) {
  test::temp_dir dir;
  write(dir / "rotation.plan.yaml", rotation_plan);
  const auto r = planproof(dir, "run rotation.plan.yaml --tls " + pki().string() + " --time-scale 0.05 --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("held     bad_certificate_rollout"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("note: tls: the mocks serve HTTPS with " + (pki() / "server.pem").string() +
                          "; the client trusts " + (pki() / "ca.pem").string() + " and checks the name 127.0.0.1"),
            std::string::npos)
      << r.output;
  const auto mode = failure_mode(dir / "report.json", "bad_certificate_rollout");
  // The handshakes really failed, each one an attempt the client saw as tls_error and retried.
  const auto injected = count(mode, "faults_injected", "tls");
  EXPECT_GE(injected, 8) << mode;  // at least the first request of each of the 8 in flight
  EXPECT_EQ(count(mode, "attempt_results", "tls_error"), injected) << mode;
  EXPECT_EQ(count(mode, "attempt_results", "200"), 100) << mode;
  EXPECT_EQ(mode.at("metrics").at("lost").as_int64(), 0);
  EXPECT_EQ(test::read_file(dir / "dead.jsonl"), "");

  const auto twin = planproof(dir, "run rotation.plan.yaml --tls " + pki().string() +
                                       " --time-scale 0.05 --set 'retry.retry_on=[503, timeout]' --json twin.json");
  ASSERT_EQ(twin.exit_code, 1) << twin.output;
  EXPECT_NE(twin.output.find("BROKEN   bad_certificate_rollout"), std::string::npos) << twin.output;
  EXPECT_NE(twin.output.find("FAIL success_rate: expected >= 0.99"), std::string::npos) << twin.output;
  const auto broken = failure_mode(dir / "twin.json", "bad_certificate_rollout");
  const auto dead = broken.at("metrics").at("dead_lettered").as_int64();
  EXPECT_GE(dead, 10) << broken;
  EXPECT_EQ(broken.at("metrics").at("lost").as_int64(), 0);
  // Each of them ended in the dead-letter file with the handshake failure as its last error.
  const auto letters = test::read_file(dir / "dead.jsonl");
  EXPECT_EQ(std::count(letters.begin(), letters.end(), '\n'), dead);
  EXPECT_NE(letters.find(R"("last_error":{"status":0,"error":"tls_error"})"), std::string::npos) << letters;
}

TEST(cli_run_tls, an_mtls_plan_holds_with_the_stand_in_client_certificate) {
  test::temp_dir dir;
  write(dir / "mtls.plan.yaml", mtls_plan);
  const auto r = planproof(dir, "run mtls.plan.yaml --tls " + pki().string() + " --time-scale 0.05 --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 failure modes: 3 held, 0 broken"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("note: auth: mtls: the client presents " + (pki() / "client.pem").string() + " with " +
                          (pki() / "client.key").string() + " (signed by " + (pki() / "ca.pem").string() +
                          ", which the mocks require) in place of the plan's file:/etc/mtls-sync/client.pem and "
                          "file:/etc/mtls-sync/client.key, which are for the real upstream"),
            std::string::npos)
      << r.output;
  const auto refused = failure_mode(dir / "report.json", "client_certificate_refused");
  EXPECT_GE(count(refused, "faults_injected", "tls"), 8) << refused;
  EXPECT_EQ(count(refused, "attempt_results", "tls_error"), count(refused, "faults_injected", "tls")) << refused;
  // A fault whose handshake succeeds (the client cannot tell it was not asked for its certificate)
  // still counts: the mock picked those connections.
  const auto unasked = failure_mode(dir / "report.json", "certificate_not_asked_for");
  EXPECT_GE(count(unasked, "faults_injected", "tls"), 1) << unasked;
  EXPECT_EQ(count(unasked, "attempt_results", "200"), 100) << unasked;
  const auto errors = failure_mode(dir / "report.json", "upstream_errors");
  EXPECT_EQ(count(errors, "faults_injected", "status"), 10) << errors;
  EXPECT_EQ(count(errors, "attempt_results", "503"), 10) << errors;

  // The twin: a client certificate the mocks' CA did not sign. Every handshake is refused (one
  // attempt each, to keep it short).
  const auto wrong = dir / "pki-wrong-client";
  copy_pki(wrong);
  fs::copy_file(pki() / "client-untrusted.pem", wrong / "client.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(pki() / "client-untrusted.key", wrong / "client.key", fs::copy_options::overwrite_existing);
  const auto twin = planproof(dir, "run mtls.plan.yaml --tls pki-wrong-client --time-scale 0.05 --only upstream_errors "
                                   "--set traffic.duration=2s --set retry.max_attempts=1 --json twin.json");
  ASSERT_EQ(twin.exit_code, 1) << twin.output;
  EXPECT_NE(twin.output.find("BROKEN   upstream_errors"), std::string::npos) << twin.output;
  const auto broken = failure_mode(dir / "twin.json", "upstream_errors");
  EXPECT_EQ(count(broken, "attempt_results", "200"), 0) << broken;
  EXPECT_EQ(count(broken, "attempt_results", "tls_error"), 20) << broken;
}

TEST(cli_run_tls, without_tls_the_failure_modes_that_need_it_are_skipped_saying_how_to_run_them) {
  test::temp_dir dir;
  write(dir / "rotation.plan.yaml", rotation_plan);
  write(dir / "mtls.plan.yaml", mtls_plan);
  auto r = planproof(dir, "run rotation.plan.yaml --time-scale 0.05 --json report.json");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("SKIPPED  bad_certificate_rollout  fault 'tls' (needs run --tls DIR; tools/gen-certs DIR "
                          "writes one)"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(failure_mode(dir / "report.json", "bad_certificate_rollout").at("verdict").as_string(), "skipped");

  r = planproof(dir, "run mtls.plan.yaml --time-scale 0.05");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("SKIPPED  client_certificate_refused  auth method mtls, fault 'tls' (need run --tls DIR; "
                          "tools/gen-certs DIR writes one)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("0 held, 0 broken, 3 skipped (not verified)"), std::string::npos) << r.output;
  EXPECT_EQ(test::read_file(dir / "dead.jsonl"), "");
}

TEST(cli_run_tls, a_missing_directory_or_file_is_a_usage_error_naming_it) {
  test::temp_dir dir;
  write(dir / "rotation.plan.yaml", rotation_plan);
  write(dir / "mtls.plan.yaml", mtls_plan);
  auto r = planproof(dir, "run rotation.plan.yaml --tls no-such-dir");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--tls: error: 'no-such-dir' is not a directory (write one with tools/gen-certs no-such-dir)"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("planproof run"), std::string::npos) << "nothing ran: " << r.output;

  // The fault's certificate is missing: the fault would do nothing, so nothing runs.
  copy_pki(dir / "partial");
  fs::remove(dir / "partial/server-untrusted.pem");
  r = planproof(dir, "run rotation.plan.yaml --tls partial");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--tls: error: TLS fault untrusted_certificate: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server-untrusted.pem: cannot open: No such file or directory"), std::string::npos)
      << r.output;

  // auth mtls needs the client's certificate; a plan without it does not.
  fs::remove(dir / "partial/client.key");
  r = planproof(dir, "run mtls.plan.yaml --tls partial --only certificate_not_asked_for");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--tls: error: the client: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("client.key: cannot open: No such file or directory"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace planproof
