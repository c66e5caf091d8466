// End to end: `planproof run` writes dead letters, `planproof serve` plays the upstream (a real
// child process on loopback), and `planproof dlq replay` sends the dead letters to it again. What
// arrived is read from the mock's journal, not taken from replay's word.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "mocks/test_client.hpp"
#include "support/child_process.hpp"
#include "support/output.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

using namespace std::chrono_literals;
using mocks::testing::test_client;
namespace http = boost::beast::http;

const std::string fixture = test::source_dir() + "/tests/cli/data/dlq.plan.yaml";
constexpr std::string_view key_variable = "PLANPROOF_DLQ_TEST_KEY";
const std::string api_key = "sk_dlq_replay_4c1d9e7f";
constexpr auto startup_deadline = 20s;

class dlq_command : public ::testing::Test {
 protected:
  // `planproof ARGS` in the test's directory, with the plan's secret set.
  test::process_result planproof(const std::string& args) {
    return test::run_shell("cd '" + dir_.path().string() + "' && " + std::string(key_variable) + "=" + api_key + " " +
                           test::planproof_executable() + " " + args);
  }

  // The plan's `down` failure mode dead-letters every request: 10 records, each with its key.
  std::vector<boost::json::object> make_dead_letters() {
    const auto r = planproof("run " + fixture + " --only down");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto records = test::json_lines(test::read_file(dir_ / "dead-letter/orders.jsonl"));
    EXPECT_EQ(records.size(), 10u);
    return records;
  }

  // `planproof serve` on the fixture (or `plan`) as the upstream; faults off unless `fault` names a
  // failure mode.
  testing::AssertionResult start_upstream(std::optional<std::string> fault = std::nullopt,
                                          std::vector<std::string> more = {}, const std::string& plan = fixture) {
    std::vector<std::string> args{"serve", plan};
    if (fault) args.insert(args.end(), {"--fault", *fault});
    args.insert(args.end(), more.begin(), more.end());
    test::child_process::options opt;
    opt.cwd = dir_.path().string();
    opt.set_env.emplace_back(key_variable, api_key);
    upstream_ = std::make_unique<test::child_process>(test::planproof_executable(), args, opt);
    if (!upstream_->started()) return testing::AssertionFailure() << upstream_->error();
    const auto mock = upstream_->read_line(startup_deadline);
    const auto admin = upstream_->read_line(startup_deadline);
    if (!mock || !admin) return testing::AssertionFailure() << "no address lines\n" << upstream_->output();
    const auto mock_port = test::port_of(*mock, "mock: ");
    const auto admin_port = test::port_of(*admin, "admin: ");
    if (!mock_port || !admin_port) return testing::AssertionFailure() << *mock << " / " << *admin;
    mock_url_ = mock->substr(6);
    admin_ = *admin_port;
    while (auto line = upstream_->read_line(startup_deadline)) {
      if (line->starts_with("Stop with")) return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "the banner did not end\n" << upstream_->output();
  }

  std::string admin_call(http::verb method, std::string_view target) {
    test_client client(admin_);
    EXPECT_FALSE(client.connect_error());
    const auto r = client.get(target, {}, method);
    EXPECT_FALSE(r.ec) << r.ec.message();
    return r.res.body();
  }
  std::vector<boost::json::object> journal() { return test::json_lines(admin_call(http::verb::get, "/journal")); }

  void TearDown() override { upstream_.reset(); }

  test::temp_dir dir_;
  std::unique_ptr<test::child_process> upstream_;
  std::string mock_url_;
  unsigned short admin_ = 0;
};

std::set<std::string> keys_of(const std::vector<boost::json::object>& lines) {
  std::set<std::string> keys;
  for (const auto& l : lines) keys.insert(std::string(l.at("idempotency_key").as_string()));
  return keys;
}

TEST_F(dlq_command, replays_every_dead_letter_with_its_original_idempotency_key) {
  const auto records = make_dead_letters();
  const auto original = test::read_file(dir_ / "dead-letter/orders.jsonl");
  ASSERT_TRUE(start_upstream());

  const auto r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_ +
                           " --log replay.log");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("replayed 10: 10 succeeded, 0 dead-lettered again, 0 damaged lines skipped"),
            std::string::npos)
      << r.output;

  // The upstream saw each request once, under the key it was first sent with, and applied it.
  const auto seen = journal();
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(keys_of(seen), keys_of(records));
  for (const auto& l : seen) {
    EXPECT_EQ(l.at("status").as_int64(), 201);
    EXPECT_EQ(l.at("outcome").as_string(), "answered");
  }
  EXPECT_EQ(test::read_file(dir_ / "dead-letter/orders.jsonl"), original) << "FILE is never rewritten";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "dead-letter/orders.replay.jsonl")) << "nothing failed again";

  // The log names each request by its line in FILE and the id it carried.
  std::set<std::string> logged;
  for (const auto& l : test::json_lines(test::read_file(dir_ / "replay.log"))) {
    EXPECT_EQ(l.at("replay_of").as_string(), "dead-letter/orders.jsonl");
    const auto line = static_cast<std::size_t>(l.at("request").as_int64());
    ASSERT_TRUE(line >= 1 && line <= records.size());
    EXPECT_EQ(l.at("correlation_id"), records[line - 1].at("idempotency_key"));
    logged.insert(std::string(l.at("event").as_string()));
  }
  EXPECT_EQ(logged, (std::set<std::string>{"request_submitted", "attempt_started", "attempt_finished",
                                           "request_completed"}));

  // Replaying the same file again: the upstream answers from its idempotency store, nothing is
  // applied twice.
  const auto again = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const auto both = journal();
  ASSERT_EQ(both.size(), 20u);
  for (std::size_t i = 10; i < 20; ++i) EXPECT_EQ(both[i].at("outcome").as_string(), "replayed") << i;

  for (const auto& text : {r.output, again.output, test::read_file(dir_ / "replay.log")}) {
    EXPECT_EQ(text.find(api_key), std::string::npos) << text;
  }
}

TEST_F(dlq_command, records_that_fail_again_go_to_another_file_and_can_be_replayed_from_there) {
  const auto records = make_dead_letters();
  const auto original = test::read_file(dir_ / "dead-letter/orders.jsonl");
  ASSERT_TRUE(start_upstream("down"));

  const auto r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_);
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("replayed 10: 0 succeeded, 10 dead-lettered again, 0 damaged lines skipped"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("10 dead letters appended to dead-letter/orders.replay.jsonl"), std::string::npos) << r.output;
  EXPECT_EQ(test::read_file(dir_ / "dead-letter/orders.jsonl"), original);
  const auto again = test::json_lines(test::read_file(dir_ / "dead-letter/orders.replay.jsonl"));
  ASSERT_EQ(again.size(), 10u);
  EXPECT_EQ(keys_of(again), keys_of(records));
  for (const auto& a : again) {
    EXPECT_EQ(a.at("replay_of").as_string(), "dead-letter/orders.jsonl");
    EXPECT_EQ(a.at("reason").as_string(), "attempts_exhausted");
    EXPECT_EQ(a.at("last_error").at("status").as_int64(), 503);
    // The body is the same bytes: a key the upstream stored must come back with its own body.
    EXPECT_EQ(a.at("body"), records[static_cast<std::size_t>(a.at("request_id").as_int64()) - 1].at("body"));
  }
  const auto sent = journal();
  ASSERT_EQ(sent.size(), 20u);  // two attempts each
  EXPECT_EQ(keys_of(sent), keys_of(records));

  // Once the upstream is back, the second file replays like the first, to a chosen output.
  admin_call(http::verb::post, "/failure-modes/down/disable");
  const auto later = planproof("dlq replay dead-letter/orders.replay.jsonl " + fixture + " --upstream " + mock_url_ +
                               " --dead-letter still-failing.jsonl --rate 100/s");
  ASSERT_EQ(later.exit_code, 0) << later.output;
  EXPECT_NE(later.output.find("replayed 10: 10 succeeded"), std::string::npos) << later.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "still-failing.jsonl"));
  const auto all = journal();
  ASSERT_EQ(all.size(), 30u);
  for (std::size_t i = 20; i < 30; ++i) EXPECT_EQ(all[i].at("status").as_int64(), 201);
}

// A record torn by a crash (and repaired onto its own line) is skipped and named; the rest go.
TEST_F(dlq_command, damaged_lines_are_skipped_and_named) {
  const auto records = make_dead_letters();
  const auto text = test::read_file(dir_ / "dead-letter/orders.jsonl");
  std::istringstream in(text);
  std::string first, second, third;
  std::getline(in, first);
  std::getline(in, second);
  std::getline(in, third);
  {
    std::ofstream out(dir_ / "torn.jsonl", std::ios::binary);
    out << first << '\n' << second.substr(0, second.size() / 2) << '\n' << third << '\n';
  }
  ASSERT_TRUE(start_upstream());
  const auto r = planproof("dlq replay torn.jsonl " + fixture + " --upstream " + mock_url_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("skipped line 2: not a whole JSON record"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("replayed 2: 2 succeeded, 0 dead-lettered again, 1 damaged line skipped"), std::string::npos)
      << r.output;
  EXPECT_EQ(keys_of(journal()), (std::set<std::string>{std::string(records[0].at("idempotency_key").as_string()),
                                                       std::string(records[2].at("idempotency_key").as_string())}));
}

TEST_F(dlq_command, usage_errors_are_exit_2_and_send_nothing) {
  make_dead_letters();
  ASSERT_TRUE(start_upstream());
  const std::string to = " --upstream " + mock_url_;

  auto r = planproof("dlq replay missing.jsonl " + fixture + to);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cannot read missing.jsonl: No such file or directory"), std::string::npos) << r.output;

  // A record for an endpoint the plan does not have: named by its line, and nothing is sent.
  {
    std::ofstream out(dir_ / "mixed.jsonl");
    out << R"({"endpoint":"create_order","method":"POST","target":"/v1/orders","idempotency_key":"k-1"})" << '\n'
        << R"({"endpoint":"refund_order","method":"POST","target":"/v1/refunds","idempotency_key":"k-2"})" << '\n';
  }
  r = planproof("dlq replay mixed.jsonl " + fixture + to);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("mixed.jsonl: line 2: no endpoint 'refund_order' in the plan (endpoints: create_order)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("nothing was replayed"), std::string::npos) << r.output;

  r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + to + " --upstream-ca ca.pem");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--upstream-ca applies only to an https:// upstream"), std::string::npos) << r.output;
  r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + to + " --insecure");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--insecure applies only to an https:// upstream"), std::string::npos) << r.output;

  r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + to + " --dead-letter dead-letter/../dead-letter/orders.jsonl");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("replay never rewrites FILE in place"), std::string::npos) << r.output;
  r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + to + " --phase nope");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no phase 'nope'"), std::string::npos) << r.output;
  EXPECT_EQ(planproof("dlq replay dead-letter/orders.jsonl " + fixture + to + " --rate fast").exit_code, 2);
  EXPECT_EQ(planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream ftp://x").exit_code, 2);
  EXPECT_EQ(planproof("dlq replay dead-letter/orders.jsonl").exit_code, 2);
  EXPECT_EQ(planproof("dlq").exit_code, 2);
  // Without the plan's secret a real upstream would refuse every request: said, not attempted.
  r = test::run_shell("cd '" + dir_.path().string() + "' && env -u " + std::string(key_variable) + " " +
                      test::planproof_executable() + " dlq replay dead-letter/orders.jsonl " + fixture + to);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("PLANPROOF_DLQ_TEST_KEY"), std::string::npos) << r.output;

  EXPECT_TRUE(journal().empty()) << "no usage error sent anything";
  const auto help = planproof("dlq replay --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--dead-letter"), std::string::npos) << help.output;
}

// Without --upstream the records go to the plan's base_url.
TEST_F(dlq_command, the_default_upstream_is_the_plans_base_url) {
  const auto records = make_dead_letters();
  ASSERT_TRUE(start_upstream());
  const auto r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --set integration.base_url=" + mock_url_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("to " + mock_url_), std::string::npos) << r.output;
  EXPECT_EQ(keys_of(journal()), keys_of(records));
}

// A replay that did not finish left its marks: what it started is not sent again (at most once per
// replay), what it never saw end is named in doubt, and --restart sends everything.
TEST_F(dlq_command, a_replay_cut_short_is_resumed_without_sending_a_record_twice) {
  const auto records = make_dead_letters();
  ASSERT_TRUE(start_upstream());
  // The earlier replay ended line 1, and started line 2 when it was killed.
  {
    std::ofstream(dir_ / "dead-letter/orders.replay.jsonl.progress") << "s 1\nd 1\ns 2\n";
  }
  const auto r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed: 2 records an earlier replay of this file started and did not finish are not "
                          "sent again"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("in doubt: line 2: that replay sent them, or was about to"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("replayed 8: 8 succeeded"), std::string::npos) << r.output;
  auto seen = journal();
  EXPECT_EQ(seen.size(), 8u);
  std::set<std::string> expected;
  for (std::size_t i = 2; i < records.size(); ++i) expected.insert(std::string(records[i].at("idempotency_key").as_string()));
  EXPECT_EQ(keys_of(seen), expected) << "lines 3 to 10, each once";
  EXPECT_FALSE(std::filesystem::exists(dir_ / "dead-letter/orders.replay.jsonl.progress")) << "every record ended";

  // Killed for real, at the third record's answer, then started again: no record goes out twice.
  ASSERT_EQ(admin_call(http::verb::post, "/reset"), "{\"reset\":true}\n");
  test::child_process::options opt;
  opt.cwd = dir_.path().string();
  opt.set_env.emplace_back(key_variable, api_key);
  test::child_process cut(test::planproof_executable(),
                          {"dlq", "replay", "dead-letter/orders.jsonl", fixture, "--upstream", mock_url_, "--rate", "5",
                           "--log", "/dev/stdout"},
                          opt);
  ASSERT_TRUE(cut.started()) << cut.error();
  int answered = 0;
  while (answered < 3) {
    const auto line = cut.read_line(20s);
    ASSERT_TRUE(line) << cut.output();
    if (line->find("\"attempt_finished\"") != std::string::npos) ++answered;
  }
  ASSERT_TRUE(cut.signal(SIGKILL));
  ASSERT_TRUE(cut.wait(20s));
  const auto again = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resumed: "), std::string::npos) << again.output;
  seen = journal();
  std::map<std::string, int> sends;
  for (const auto& l : seen) ++sends[std::string(l.at("idempotency_key").as_string())];
  for (const auto& [key, n] : sends) EXPECT_EQ(n, 1) << key << " sent " << n << " times";
  EXPECT_GE(sends.size(), 9u) << "at most the one in doubt is missing";

  // --restart: every record again (the upstream's idempotency keys make that safe).
  ASSERT_EQ(admin_call(http::verb::post, "/reset"), "{\"reset\":true}\n");
  {
    std::ofstream(dir_ / "dead-letter/orders.replay.jsonl.progress") << "s 1\nd 1\n";
  }
  const auto restart = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_ +
                                 " --restart");
  ASSERT_EQ(restart.exit_code, 0) << restart.output;
  EXPECT_NE(restart.output.find("replayed 10: 10 succeeded"), std::string::npos) << restart.output;
  EXPECT_EQ(journal().size(), 10u);
}

// An https upstream: the certificate must chain to a trusted CA; one that does not fails every
// attempt (a tls_error, fatal for this plan), and the records are dead-lettered again, not lost.
TEST_F(dlq_command, replays_over_https_to_an_upstream_it_trusts) {
  const auto records = make_dead_letters();
  const auto pki = dir_ / "pki";
  const auto certs = test::run_shell(test::source_dir() + "/tools/gen-certs '" + pki.string() + "' 2>&1");
  ASSERT_EQ(certs.exit_code, 0) << certs.output;
  ASSERT_TRUE(start_upstream(std::nullopt, {"--tls", pki.string()}));
  ASSERT_TRUE(mock_url_.starts_with("https://")) << mock_url_;

  const auto untrusted = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_);
  ASSERT_EQ(untrusted.exit_code, 1) << untrusted.output;
  const auto again = test::json_lines(test::read_file(dir_ / "dead-letter/orders.replay.jsonl"));
  ASSERT_EQ(again.size(), 10u);
  EXPECT_EQ(again[0].at("last_error").at("error").as_string(), "tls_error");
  EXPECT_TRUE(journal().empty() || journal()[0].at("outcome").as_string() == "tls_failed");

  const auto r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_ +
                           " --upstream-ca " + (pki / "ca.pem").string() + " --dead-letter trusted.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("replayed 10: 10 succeeded"), std::string::npos) << r.output;
  std::set<std::string> applied;
  for (const auto& l : journal()) {
    if (l.at("status").as_int64() == 201) applied.insert(std::string(l.at("idempotency_key").as_string()));
  }
  EXPECT_EQ(applied, keys_of(records));

  // --insecure skips the check, and says so.
  const auto insecure = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream " + mock_url_ +
                                  " --insecure --dead-letter insecure.jsonl");
  ASSERT_EQ(insecure.exit_code, 0) << insecure.output;
  EXPECT_NE(insecure.output.find("replayed 10: 10 succeeded"), std::string::npos) << insecure.output;
  EXPECT_NE(insecure.output.find("warning: --insecure: the upstream's certificate is NOT checked"), std::string::npos)
      << insecure.output;
}

// The PKI the tls_pki ctest fixture made (PLANPROOF_TEST_PKI), or one made here once per process
// when the binary is run by hand.
const std::filesystem::path& shared_pki() {
  static const std::filesystem::path dir = [] {
    if (const char* env = std::getenv("PLANPROOF_TEST_PKI"); env != nullptr && *env != '\0') {
      return std::filesystem::path(env);
    }
    static test::temp_dir made;
    const auto r = test::run_shell(test::source_dir() + "/tools/gen-certs '" + made.path().string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return made.path();
  }();
  return dir;
}

// The fixture with auth mtls: the client certificate, key and CA are the plan's own references,
// as they would be for a real upstream.
std::string mtls_fixture(const std::filesystem::path& pki) {
  auto text = test::read_file(fixture);
  const std::string api_key_auth = "auth: {method: api_key, header: X-Api-Key, key: env:PLANPROOF_DLQ_TEST_KEY}";
  const auto at = text.find(api_key_auth);
  EXPECT_NE(at, std::string::npos);
  text.replace(at, api_key_auth.size(),
               "auth: {method: mtls, client_cert: file:" + (pki / "client.pem").string() + ", client_key: file:" +
                   (pki / "client.key").string() + ", ca: file:" + (pki / "ca.pem").string() + "}");
  return text;
}

// auth mtls: replay presents the plan's own client certificate to an upstream that requires one
// (serve --tls --mtls), and trusts the plan's CA. A certificate the upstream's CA did not sign is
// refused in the handshake, and every record is dead-lettered again, as tls_error.
TEST_F(dlq_command, replays_over_mtls_with_the_plans_own_certificate) {
  const auto& pki = shared_pki();
  std::ofstream(dir_ / "mtls.plan.yaml") << mtls_fixture(pki);
  const auto run = planproof("run mtls.plan.yaml --only down --time-scale 0.2 --tls " + pki.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto records = test::json_lines(test::read_file(dir_ / "dead-letter/orders.jsonl"));
  ASSERT_EQ(records.size(), 10u);
  ASSERT_TRUE(start_upstream(std::nullopt, {"--tls", pki.string(), "--mtls"}, (dir_ / "mtls.plan.yaml").string()));
  ASSERT_TRUE(mock_url_.starts_with("https://")) << mock_url_;
  EXPECT_NE(upstream_->output().find("every client must present a certificate signed by " + pki.string() + "/ca.pem"),
            std::string::npos)
      << upstream_->output();

  // What the upstream answered, and the handshakes it refused and why. (replay's reachability
  // probe is a bare TCP connection, which the HTTPS mock journals as a failed handshake too.)
  auto answered = [&] {
    std::vector<boost::json::object> out;
    for (const auto& l : journal()) {
      if (l.at("outcome").as_string() != "tls_failed") out.push_back(l);
    }
    return out;
  };
  auto refused_as_unknown_ca = [&] {
    std::size_t n = 0;
    for (const auto& l : journal()) {
      if (l.at("outcome").as_string() != "tls_failed") continue;
      n += std::string(l.at("tls_error").as_string()).find("unknown CA") != std::string::npos ? 1 : 0;
    }
    return n;
  };

  const std::string replay = "dlq replay dead-letter/orders.jsonl mtls.plan.yaml --rate 500/s --upstream " + mock_url_;
  const auto r = planproof(replay);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("replayed 10: 10 succeeded"), std::string::npos) << r.output;
  auto seen = answered();
  ASSERT_EQ(seen.size(), 10u);
  for (const auto& l : seen) EXPECT_EQ(l.at("status").as_int64(), 201) << l;
  EXPECT_EQ(keys_of(seen), keys_of(records));
  EXPECT_EQ(refused_as_unknown_ca(), 0u);

  // The key from the environment instead of a file: the same handshake.
  const auto from_env = test::run_shell("cd '" + dir_.path().string() + "' && PLANPROOF_DLQ_TEST_MTLS_KEY=\"$(cat '" +
                                        (pki / "client.key").string() + "')\" " + test::planproof_executable() + " " +
                                        replay + " --set auth.client_key=env:PLANPROOF_DLQ_TEST_MTLS_KEY");
  ASSERT_EQ(from_env.exit_code, 0) << from_env.output;
  EXPECT_NE(from_env.output.find("replayed 10: 10 succeeded"), std::string::npos) << from_env.output;
  EXPECT_EQ(from_env.output.find("PRIVATE KEY"), std::string::npos) << from_env.output;

  const auto untrusted = planproof(replay + " --set auth.client_cert=file:" + (pki / "client-untrusted.pem").string() +
                                   " --set auth.client_key=file:" + (pki / "client-untrusted.key").string());
  ASSERT_EQ(untrusted.exit_code, 1) << untrusted.output;
  EXPECT_NE(untrusted.output.find("replayed 10: 0 succeeded, 10 dead-lettered again"), std::string::npos)
      << untrusted.output;
  const auto again = test::json_lines(test::read_file(dir_ / "dead-letter/orders.replay.jsonl"));
  ASSERT_EQ(again.size(), 10u);
  for (const auto& a : again) EXPECT_EQ(a.at("last_error").at("error").as_string(), "tls_error") << a;
  // Nothing more was answered: each record's one attempt (tls_error is fatal for this plan) was
  // refused in its handshake.
  EXPECT_EQ(answered().size(), 20u);
  EXPECT_EQ(refused_as_unknown_ca(), 10u);
}

TEST_F(dlq_command, mtls_needs_an_https_upstream_and_the_plans_files) {
  const auto& pki = shared_pki();
  std::ofstream(dir_ / "mtls.plan.yaml") << mtls_fixture(pki);
  {
    std::ofstream out(dir_ / "one.jsonl");
    out << R"({"endpoint":"create_order","method":"POST","target":"/v1/orders","idempotency_key":"k-1"})" << '\n';
  }
  auto r = planproof("dlq replay one.jsonl mtls.plan.yaml --upstream http://127.0.0.1:9");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("auth mtls authenticates in the TLS handshake, so --upstream must be an https:// upstream, "
                          "not http://127.0.0.1:9"),
            std::string::npos)
      << r.output;
  r = planproof("dlq replay one.jsonl mtls.plan.yaml --upstream https://127.0.0.1:9 --set auth.client_key=file:missing.key");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("missing.key: cannot open: No such file or directory"), std::string::npos) << r.output;
  r = test::run_shell("cd '" + dir_.path().string() + "' && env -u PLANPROOF_DLQ_TEST_MTLS_KEY " +
                      test::planproof_executable() +
                      " dlq replay one.jsonl mtls.plan.yaml --upstream https://127.0.0.1:9 "
                      "--set auth.client_key=env:PLANPROOF_DLQ_TEST_MTLS_KEY");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("cannot resolve the plan's auth.client_key (environment variable PLANPROOF_DLQ_TEST_MTLS_KEY "
                          "is not set)"),
            std::string::npos)
      << r.output;
}

TEST_F(dlq_command, an_upstream_that_cannot_be_reached_is_exit_3_and_writes_nothing) {
  make_dead_letters();
  // A port nothing listens on: bound, read back, closed.
  unsigned short port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  const auto r = planproof("dlq replay dead-letter/orders.jsonl " + fixture + " --upstream http://127.0.0.1:" +
                           std::to_string(port));
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot connect to http://127.0.0.1:" + std::to_string(port)), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "dead-letter/orders.replay.jsonl"));
}

}  // namespace
}  // namespace planproof
