// no_secret_in_logs: the scan finds a secret in each form it travels in (raw, HTTP Basic, a token
// issued mid-run, a JWT) in the files the run wrote, says where, and never repeats the value.
#include "scenario/secret_scan.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "client/dead_letter.hpp"
#include "core/encoding.hpp"
#include "core/jwt.hpp"
#include "core/logging.hpp"
#include "plan/model.hpp"
#include "scenario/auth_material.hpp"
#include "scenario/expectations.hpp"
#include "support/process.hpp"

namespace planproof::scenario {
namespace {

const std::string secret = "sk_scan_7f3a91c2e4b8";

plan::expectation no_secret_expected() {
  plan::expectation e;
  e.name = "no_secret_in_logs";
  e.text = "true";
  e.boolean = true;
  return e;
}

// Everything a report would print of the result: none of it may hold a form's value.
std::string printed(const expectation_result& r) {
  std::string out = r.name + ' ' + r.expected + ' ' + r.note;
  for (const auto& ev : r.evidence) out += ' ' + ev.what;
  return out;
}

testing::AssertionResult holds_no_value(const expectation_result& r, const secret_scan& scan) {
  const auto text = printed(r);
  for (const auto& f : scan.forms()) {
    if (text.find(f.value) != std::string::npos) return testing::AssertionFailure() << f.name() << " is in: " << text;
  }
  return testing::AssertionSuccess();
}

void write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

auth_material api_key_material() {
  auth_material m;
  m.header = {"X-API-Key", secret};
  m.resolved.emplace_back("secret env:PAY_KEY", secret);
  return m;
}

TEST(secret_forms, a_secret_travels_raw_and_encoded_and_oauth2_credentials_as_basic) {
  auth_material m;
  m.client_id = "crm id";
  m.client_secret = "s3cr/t+";
  m.resolved.emplace_back("secret env:SF_CLIENT_SECRET", m.client_secret);
  const auto forms = secret_forms(m);
  auto value_of = [&](const std::string& name) {
    for (const auto& f : forms) {
      if (f.name() == name) return f.value;
    }
    return std::string("(none)");
  };
  EXPECT_EQ(value_of("secret env:SF_CLIENT_SECRET"), "s3cr/t+");
  EXPECT_EQ(value_of("secret env:SF_CLIENT_SECRET as form-encoded"), "s3cr%2Ft%2B");
  EXPECT_EQ(value_of("secret env:SF_CLIENT_SECRET as base64"), core::base64_encode("s3cr/t+"));
  EXPECT_EQ(value_of("secret env:SF_CLIENT_SECRET as hex"), "733363722f742b");
  EXPECT_EQ(value_of("OAuth2 client credentials as HTTP Basic"), core::base64_encode("crm+id:s3cr%2Ft%2B"));
  EXPECT_EQ(value_of("OAuth2 client credentials as HTTP Basic without form-encoding"),
            core::base64_encode("crm id:s3cr/t+"));
  // The client id is not a secret: on its own it is not searched for.
  EXPECT_EQ(value_of("crm id"), "(none)");
}

TEST(secret_scan, a_raw_secret_in_the_decision_log_is_found_with_its_line_request_and_time) {
  test::temp_dir dir;
  const auto log = dir / "run.log";
  const std::string earlier = "{\"event\":\"request_submitted\",\"failure_mode\":\"before\",\"request\":1}\n";
  write(log, earlier + "{\"event\":\"attempt_finished\",\"at_ms\":0,\"request\":1}\n" +
                 "{\"event\":\"attempt_finished\",\"at_ms\":340,\"request\":7,\"note\":\"key " + secret + "\"}\n");
  secret_scan scan(secret_forms(api_key_material()));
  std::string error;
  ASSERT_TRUE(scan.scan_file("decision log run.log", log, earlier.size(), error)) << error;
  ASSERT_EQ(scan.artifacts().size(), 1u);
  EXPECT_EQ(scan.artifacts()[0].lines, 2u);  // this failure mode's part only
  EXPECT_EQ(scan.artifacts()[0].bytes, test::read_file(log).size() - earlier.size());
  ASSERT_EQ(scan.occurrences(), 1u);
  const auto& f = scan.findings().at(0);
  EXPECT_EQ(f.line, 3u);  // counted from the file's start
  EXPECT_EQ(f.offset, test::read_file(log).find(secret));
  EXPECT_EQ(f.request, 7u);
  EXPECT_EQ(f.at_ms, 340);

  const auto r = evaluate(no_secret_expected(), scan);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.observed, boost::json::value(1u));
  ASSERT_EQ(r.evidence.size(), 1u);
  EXPECT_EQ(r.evidence[0].what, "secret env:PAY_KEY in decision log run.log line 3, byte " + std::to_string(f.offset));
  EXPECT_EQ(r.evidence[0].request, 7u);
  EXPECT_TRUE(holds_no_value(r, scan));
}

// The redactor only knows the raw value: a dead letter carrying the secret base64-encoded gets
// past it, and the scan, its own oracle, still finds it.
TEST(secret_scan, a_base64_secret_in_a_dead_letter_is_found_though_the_redactor_let_it_through) {
  test::temp_dir dir;
  core::redactor::instance().add(secret);
  client::dead_letter_queue queue(dir / "dead.jsonl");
  ASSERT_FALSE(queue.open());
  ASSERT_FALSE(queue.append({{"request_id", 3}, {"body", "{\"note\":\"" + secret + "\"}"}}));
  ASSERT_FALSE(queue.append({{"request_id", 4}, {"body", "{\"note\":\"" + core::base64_encode(secret) + "\"}"}}));
  const auto written = test::read_file(dir / "dead.jsonl");
  ASSERT_EQ(written.find(secret), std::string::npos);  // the redactor did its part
  secret_scan scan(secret_forms(api_key_material()));
  std::string error;
  ASSERT_TRUE(scan.scan_file("dead-letter file dead.jsonl", dir / "dead.jsonl", 0, error)) << error;
  EXPECT_EQ(scan.artifacts().at(0).bytes, written.size());
  ASSERT_EQ(scan.occurrences(), 1u);
  EXPECT_EQ(scan.findings().at(0).form, "secret env:PAY_KEY as base64");
  EXPECT_EQ(scan.findings().at(0).request, 4u);
  const auto r = evaluate(no_secret_expected(), scan);
  EXPECT_FALSE(r.held);
  EXPECT_NE(r.evidence.at(0).what.find("in dead-letter file dead.jsonl line 2"), std::string::npos);
  EXPECT_TRUE(holds_no_value(r, scan));
  core::redactor::instance().clear();
}

TEST(secret_scan, oauth2_basic_credentials_in_the_verbose_output_are_found) {
  auth_material m;
  m.client_id = "sfid_1";
  m.client_secret = "sfsecret_2";
  m.resolved.emplace_back("secret env:SF_CLIENT_SECRET", m.client_secret);
  secret_scan scan(secret_forms(m));
  scan.scan_line("verbose output (standard error)", "event=request_submitted request=1 at_ms=0", 1);
  scan.scan_line("verbose output (standard error)",
                 "event=token_requested request=2 at_ms=125 note=\"Basic " + core::base64_encode("sfid_1:sfsecret_2") + "\"",
                 2, 42);
  ASSERT_EQ(scan.occurrences(), 1u);
  EXPECT_EQ(scan.findings().at(0).form, "OAuth2 client credentials as HTTP Basic");
  EXPECT_EQ(scan.findings().at(0).request, 2u);
  EXPECT_EQ(scan.findings().at(0).at_ms, 125);
  const auto r = evaluate(no_secret_expected(), scan);
  EXPECT_FALSE(r.held);
  EXPECT_TRUE(holds_no_value(r, scan));
}

// A token is searched for once it was issued: the mock's token endpoint hands out values no plan
// names, so only the run knows them.
TEST(secret_scan, a_token_issued_mid_run_and_a_signed_jwt_are_found) {
  secret_scan scan(secret_forms(api_key_material()));
  const std::string token = "tok_9b1d33aa02f1c7e5";
  scan.add_forms("OAuth2 token 1 the client received", token, "OAuth2 tokens the client received");
  auto key = core::jws_key::from_secret(core::jws_algorithm::HS256, "hs256-key-for-the-scan-test-0123456789").key;
  ASSERT_TRUE(key);
  const auto jwt = core::mint_jwt(*key, {{"iss", "planproof"}}, std::chrono::sys_seconds(std::chrono::seconds(1700000000)),
                                  std::chrono::seconds(60), "jti-1");
  ASSERT_FALSE(jwt.empty());
  scan.add_forms("JWT 1 the client signed", jwt, "JWTs the client signed");
  scan.scan_record("mock request records", "req-1 idem-1 create_payment POST  ", 1, 0, 10);
  scan.scan_record("report texts", "success_rate >= 0.99 last answer with Bearer " + token, 1);
  scan.scan_record("report texts", "detected_as 401 token " + jwt, 2, 9, 250);
  EXPECT_EQ(scan.occurrences(), 2u);
  ASSERT_EQ(scan.findings().size(), 2u);
  EXPECT_EQ(scan.findings()[0].form, "OAuth2 token 1 the client received");
  EXPECT_EQ(scan.findings()[1].form, "JWT 1 the client signed");
  EXPECT_EQ(scan.findings()[1].request, 9u);
  const auto r = evaluate(no_secret_expected(), scan);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.observed, boost::json::value(2u));
  EXPECT_TRUE(holds_no_value(r, scan));
  // The note counts the tokens, never lists them.
  EXPECT_NE(r.note.find("; OAuth2 tokens the client received: 1 (raw, base64, base64url, hex, HEX); JWTs the client signed: 1 ("),
            std::string::npos)
      << r.note;
}

TEST(secret_scan, clean_artifacts_hold_and_say_what_was_scanned) {
  test::temp_dir dir;
  write(dir / "run.log", "{\"event\":\"request_submitted\",\"request\":1,\"key\":\"[redacted]\"}\n");
  secret_scan scan(secret_forms(api_key_material()));
  std::string error;
  ASSERT_TRUE(scan.scan_file("decision log run.log", dir / "run.log", 0, error));
  ASSERT_TRUE(scan.scan_file("dead-letter file dead.jsonl", dir / "dead.jsonl", 0, error));  // none written
  const auto r = evaluate(no_secret_expected(), scan);
  EXPECT_TRUE(r.held);
  EXPECT_EQ(r.observed, boost::json::value(0u));
  EXPECT_TRUE(r.evidence.empty());
  const auto bytes = std::to_string(test::read_file(dir / "run.log").size());
  EXPECT_NE(r.note.find("0 occurrences of a secret found (observed); scanned decision log run.log: " + bytes +
                        " bytes in 1 line; dead-letter file dead.jsonl: 0 bytes in 0 lines; 5 forms searched: "
                        "secret env:PAY_KEY (raw, base64, base64url, hex, HEX)"),
            std::string::npos)
      << r.note;
}

}  // namespace
}  // namespace planproof::scenario
