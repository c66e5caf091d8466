// Nothing leaked (DESIGN.md section 12): with the plans' real secrets set, a run that dead-letters
// and writes a report and a log, and a replay of its dead letters, write the secret nowhere: not in
// the log, the dead letters, the report, standard output or error. One plan with an API key in a
// header, one that signs requests with HMAC (whose signatures must not appear either), one with
// OAuth2 client credentials.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "support/child_process.hpp"
#include "support/secret_check.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

using namespace std::chrono_literals;

using test::everything_written;
using test::no_secret_in;
using test::output;

std::string with_secret(const test::temp_dir& dir, const std::string& variable, const std::string& secret,
                        const std::string& args) {
  return "cd '" + dir.path().string() + "' && " + variable + "=" + secret + " " + test::planproof_executable() + " " +
         args;
}

// `planproof run` of the Salesforce example in `dir` with its OAuth2 client id and secret set.
test::process_result run_salesforce(const test::temp_dir& dir, const std::string& id, const std::string& secret,
                                    const std::string& args) {
  return test::run_shell("cd '" + dir.path().string() + "' && SF_CLIENT_ID=" + id + " SF_CLIENT_SECRET=" + secret +
                         " " + test::planproof_executable() + " run " + test::source_dir() +
                         "/scenarios/salesforce-sync.plan.yaml " + args);
}

// The checker must be able to fail, or the tests below prove nothing.
TEST(no_secret_checker, finds_a_secret_or_a_signature) {
  EXPECT_FALSE(no_secret_in({{"x", "key: sk_abc"}}, {"sk_abc"}));
  EXPECT_FALSE(no_secret_in({{"x", "X-Signature: v1=" + std::string(64, 'a')}}, {"sk_abc"}));
  EXPECT_FALSE(no_secret_in({{"x", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30"}}, {"sk_abc"}));
  EXPECT_FALSE(no_secret_in({{"x", "Authorization: Basic c2ZpZDpzZnNlY3JldA=="}}, {"sk_abc"}));
  // base64 of "sk_live_abcdef" in a body: its full groups are found.
  EXPECT_FALSE(no_secret_in({{"x", "{\"note\":\"c2tfbGl2ZV9hYmNkZWY=\"}"}}, {"sk_live_abcdef"}));
  EXPECT_TRUE(no_secret_in({{"x", "key: [redacted], Authorization: Bearer [redacted]"}}, {"sk_abc"}));
}

TEST(no_secret_leaks, api_key_plan_run_with_log_report_and_dead_letters) {
  test::temp_dir dir;
  const std::string secret = "sk_live_leakcheck_7f3a9c21e5";
  const auto plan = test::source_dir() + "/scenarios/payments.plan.yaml";
  const auto r = test::run_shell(with_secret(
      dir, "ACMEPAY_API_KEY", secret,
      "run " + plan + " --only upstream_503_burst --set retry.max_attempts=1 --time-scale 0.05 --verbose"
                      " --json report.json --log events.jsonl"));
  ASSERT_EQ(r.exit_code, 1) << r.output;  // one attempt cannot ride out the burst: dead letters
  EXPECT_EQ(r.output.find("is not set"), std::string::npos) << "the real secret was used\n" << r.output;
  const auto outputs = everything_written(dir.path(), {{"stdout and stderr", r.output}});
  ASSERT_FALSE(test::read_file(dir / "dead-letter/acme-payments.jsonl").empty());
  ASSERT_FALSE(test::read_file(dir / "events.jsonl").empty());
  ASSERT_FALSE(test::read_file(dir / "report.json").empty());
  EXPECT_TRUE(no_secret_in(outputs, {secret}));
}

TEST(no_secret_leaks, hmac_plan_run_and_replay) {
  test::temp_dir dir;
  const std::string secret = "phs_leakcheck_0b8e44d1c9";
  const std::string variable = "PARCELHUB_API_SECRET";
  const auto plan = test::source_dir() + "/scenarios/shipping-webhooks.plan.yaml";
  const auto run = test::run_shell(with_secret(
      dir, variable, secret,
      "run " + plan + " --only enrichment_api_errors --set retry.max_attempts=1 --time-scale 0.05 --verbose"
                      " --json report.json --log events.jsonl"));
  ASSERT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.output.find("is not set"), std::string::npos) << "the real secret was used\n" << run.output;
  const auto letters = test::read_file(dir / "dead-letter/parcelhub-tracking.jsonl");
  ASSERT_FALSE(letters.empty()) << run.output;

  // The same plan served, with the same secret: every replayed request must carry a signature the
  // mock accepts, since a rejected one (401) is fatal and would be dead-lettered again.
  test::child_process::options opt;
  opt.cwd = dir.path().string();
  opt.set_env.emplace_back(variable, secret);
  test::child_process serve(test::planproof_executable(), {"serve", plan}, opt);
  ASSERT_TRUE(serve.started()) << serve.error();
  const auto mock = serve.read_line(20s);
  ASSERT_TRUE(mock && mock->starts_with("mock: http://127.0.0.1:")) << serve.output();
  const auto replay = test::run_shell(with_secret(dir, variable, secret,
                                                  "dlq replay dead-letter/parcelhub-tracking.jsonl " + plan +
                                                      " --upstream " + mock->substr(6) + " --rate 200/s --log replay.jsonl"));
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_NE(replay.output.find("0 dead-lettered again"), std::string::npos) << replay.output;
  ASSERT_TRUE(serve.signal(SIGTERM));
  ASSERT_TRUE(serve.wait(20s).has_value()) << serve.output();

  const auto outputs = everything_written(
      dir.path(), {{"run's output", run.output}, {"replay's output", replay.output}, {"serve's output", serve.output()}});
  ASSERT_FALSE(test::read_file(dir / "replay.jsonl").empty());
  EXPECT_TRUE(no_secret_in(outputs, {secret}));
}

// OAuth2 client credentials: neither the client id and secret (sent as Basic to the token
// endpoint) nor the access tokens (sent as Bearer) may be written, through a run whose token
// endpoint goes down and whose requests are dead-lettered.
TEST(no_secret_leaks, oauth2_plan_run_with_log_report_and_dead_letters) {
  test::temp_dir dir;
  const std::string id = "sfid_leakcheck_51c0";
  const std::string secret = "sfsecret_leakcheck_9d27e4";
  const auto r = run_salesforce(dir, id, secret,
                                "--only token_endpoint_down --set retry.max_attempts=1 --time-scale 0.05 --verbose"
                                " --json report.json --log events.jsonl");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output.find("is not set"), std::string::npos) << "the real secrets were used\n" << r.output;
  ASSERT_FALSE(test::read_file(dir / "dead-letter/salesforce-crm-sync.jsonl").empty()) << r.output;
  EXPECT_NE(test::read_file(dir / "events.jsonl").find("\"token_issued\""), std::string::npos);
  EXPECT_TRUE(no_secret_in(everything_written(dir.path(), {{"stdout and stderr", r.output}}), {id, secret}));
}

// no_secret_in_logs, as the example plan states it: the check read the real decision log and
// dead-letter file the run wrote and the lines --verbose printed, searched for the plan's secrets,
// their HTTP Basic form and the tokens issued during the run, found none, and names no value.
TEST(no_secret_in_logs, holds_over_the_files_an_oauth2_run_really_wrote) {
  test::temp_dir dir;
  const std::string id = "sfid_scan_3b71";
  const std::string secret = "sfsecret_scan_c08d5e";
  const auto r = run_salesforce(dir, id, secret,
                                "--only api_limit_exhausted --time-scale 0.05 --verbose --json report.json"
                                " --log events.jsonl");
  // The check itself is what this is about: on a loaded machine the failure mode's timing-bound
  // expectations may miss, which says nothing about what was written.
  ASSERT_LE(r.exit_code, 1) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  const auto& mode = report.at("failure_modes").at(0);
  const boost::json::value* check = nullptr;
  for (const auto& e : mode.at("expectations").as_array()) {
    if (e.at("name") == "no_secret_in_logs") check = &e;
  }
  ASSERT_NE(check, nullptr) << boost::json::serialize(mode);
  EXPECT_EQ(check->at("held"), true);
  EXPECT_EQ(check->at("observed"), 0);
  const std::string note(check->at("note").as_string());
  // Every byte of both files (written by this one failure mode) was read back.
  auto scanned_bytes = [&](const std::string& artifact) -> std::uint64_t {
    const std::regex counted(artifact + ": ([0-9]+) bytes in [0-9]+ lines");
    std::smatch m;
    return std::regex_search(note, m, counted) ? std::stoull(m[1]) : 0;
  };
  const auto log_bytes = test::read_file(dir / "events.jsonl").size();
  const auto dead_letter_bytes = test::read_file(dir / "dead-letter/salesforce-crm-sync.jsonl").size();
  ASSERT_GT(log_bytes, 0u);
  ASSERT_GT(dead_letter_bytes, 0u);
  EXPECT_EQ(scanned_bytes("decision log events\\.jsonl"), log_bytes) << note;
  EXPECT_EQ(scanned_bytes("dead-letter file dead-letter/salesforce-crm-sync\\.jsonl"), dead_letter_bytes) << note;
  EXPECT_GT(scanned_bytes("verbose output \\(standard error\\)"), 0u) << note;
  EXPECT_GT(scanned_bytes("mock request records"), 0u) << note;
  EXPECT_GT(scanned_bytes("report texts"), 0u) << note;
  for (const char* form : {"secret env:SF_CLIENT_SECRET (raw", "secret env:SF_CLIENT_ID (raw",
                           "OAuth2 client credentials (HTTP Basic)", "OAuth2 tokens the client received: "}) {
    EXPECT_NE(note.find(form), std::string::npos) << form << " not searched: " << note;
  }
  EXPECT_TRUE(no_secret_in(everything_written(dir.path(), {{"stdout and stderr", r.output}}), {id, secret}));
}

// A secret in a form the redactor does not know (the key base64-encoded in the request body that
// every dead letter carries) breaks the expectation: the evidence names the form and the dead
// letter, and neither the report nor the output holds the value in any form.
TEST(no_secret_in_logs, a_base64_key_in_the_dead_letters_breaks_it_without_being_printed) {
  test::temp_dir dir;
  const std::string secret = "sk_scan_weak_51e0c2";
  const std::string encoded = "c2tfc2Nhbl93ZWFrXzUxZTBjMg==";  // base64 of the secret
  std::ofstream(dir / "plan.yaml") << R"(planproof: 1
integration: {name: leaky}
auth: {method: api_key, key: env:LEAKY_KEY}
endpoints:
  - id: create_thing
    method: POST
    path: /v1/things
    request: {example: {note: ")" << encoded << R"("}}
    response: {status: 201, example: {id: t_1}}
    statuses: {success: [201], retryable: [503]}
    idempotency: {header: Idempotency-Key}
retry: {max_attempts: 1, retry_on: [503], dead_letter: {path: dead.jsonl}}
traffic: {endpoint: create_thing, rate: 10/s, concurrency: 2, duration: 1s}
failure_modes:
  - id: down
    inject: {fault: status, status: 503}
    expect: {no_secret_in_logs: true}
)";
  const auto r = test::run_shell(with_secret(dir, "LEAKY_KEY", secret,
                                             "run plan.yaml --time-scale 0.1 --json report.json --log events.jsonl"));
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL no_secret_in_logs: expected true, observed 10"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("secret env:LEAKY_KEY as base64 in dead-letter file dead.jsonl line 1, byte "),
            std::string::npos)
      << r.output;
  const auto report = test::read_file(dir / "report.json");
  EXPECT_NE(report.find("secret env:LEAKY_KEY as base64 in dead-letter file dead.jsonl line 1"), std::string::npos);
  for (const auto& text : {report, r.output}) {
    EXPECT_EQ(text.find(secret), std::string::npos);
    EXPECT_EQ(text.find(encoded), std::string::npos);
    EXPECT_EQ(text.find(encoded.substr(0, 26)), std::string::npos);  // base64url, unpadded
  }
}

}  // namespace
}  // namespace planproof
