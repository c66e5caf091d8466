#include "report/junit_report.hpp"

#include <gtest/gtest.h>

#include "core/logging.hpp"
#include "sample_runs.hpp"
#include "support/process.hpp"
#include "support/xml.hpp"

namespace planproof::report {
namespace {

using planproof::test::attribute;
using planproof::test::children;

TEST(xml_escape, markup_and_quotes_become_entities) {
  EXPECT_EQ(xml_escape(R"(a<b>&"c"'d]]>)", true), "a&lt;b&gt;&amp;&quot;c&quot;'d]]&gt;");
  EXPECT_EQ(xml_escape(R"(a<b>&"c"'d]]>)", false), "a&lt;b&gt;&amp;\"c\"'d]]&gt;");
}

TEST(xml_escape, line_breaks_survive_attributes_and_text) {
  EXPECT_EQ(xml_escape("a\tb\nc\rd", true), "a&#9;b&#10;c&#13;d");
  EXPECT_EQ(xml_escape("a\tb\nc\rd", false), "a\tb\nc&#13;d");
}

TEST(xml_escape, what_xml_cannot_carry_is_written_visibly) {
  EXPECT_EQ(xml_escape(std::string("nul\0bell\x07" "esc\x1b", 13), false), "nul\\x00bell\\x07esc\\x1B");
  EXPECT_EQ(xml_escape("\xff\xfe", false), "\\xFF\\xFE");                // not UTF-8
  EXPECT_EQ(xml_escape("\xed\xa0\x80", false), "\\xED\\xA0\\x80");       // a surrogate
  EXPECT_EQ(xml_escape("\xc0\xaf", false), "\\xC0\\xAF");                // overlong '/'
  EXPECT_EQ(xml_escape("\xef\xbf\xbe|\xef\xbf\xbf", false), "\\xEF\\xBF\\xBE|\\xEF\\xBF\\xBF");  // U+FFFE, U+FFFF
  EXPECT_EQ(xml_escape("cut \xe2\x82", false), "cut \\xE2\\x82");       // a sequence cut short
  EXPECT_EQ(xml_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb3 \xc2\x85", false),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xb3 \xc2\x85");  // é € 💳 and NEL are fine
}

TEST(xml_escape, secrets_are_redacted) {
  core::redactor::instance().add("sk_junit_secret_1");
  EXPECT_EQ(xml_escape("key=sk_junit_secret_1&", true), "key=[redacted]&amp;");
  core::redactor::instance().clear();
}

TEST(junit_report, one_suite_one_case_per_failure_mode_with_counts_and_real_time) {
  const auto run = test::sample_run();
  planproof::test::temp_dir dir;
  ASSERT_FALSE(write_junit(run, dir / "junit.xml"));
  EXPECT_FALSE(std::filesystem::exists(dir / "junit.xml.tmp"));
  const auto root = planproof::test::parse_xml(dir / "junit.xml");
  ASSERT_FALSE(root.is_null());

  EXPECT_EQ(root.at("tag").as_string(), "testsuites");
  const auto suites = children(root, "testsuite");
  ASSERT_EQ(suites.size(), 1u);
  const boost::json::value suite = suites[0];
  EXPECT_EQ(attribute(suite, "name"), "acme-payments");
  EXPECT_EQ(attribute(suite, "tests"), "4");
  EXPECT_EQ(attribute(suite, "failures"), "1");
  EXPECT_EQ(attribute(suite, "errors"), "1");
  EXPECT_EQ(attribute(suite, "skipped"), "1");
  // 60 s of plan time at time scale 0.05, twice (the skipped and error modes took none).
  EXPECT_EQ(attribute(suite, "time"), "6.000");
  EXPECT_EQ(attribute(root, "tests"), "4");

  std::map<std::string, std::vector<std::string>> properties;
  for (const auto& p : children(children(suite, "properties").at(0), "property")) {
    properties[attribute(p, "name")].push_back(attribute(p, "value"));
  }
  EXPECT_EQ(properties["phase"], std::vector<std::string>{"phase1"});
  EXPECT_EQ(properties["seed"], std::vector<std::string>{"42"});
  EXPECT_EQ(properties["time_scale"], std::vector<std::string>{"0.05"});
  EXPECT_EQ(properties["mode"], std::vector<std::string>{"live"});
  EXPECT_EQ(properties["note"], run.notes);
  ASSERT_EQ(properties["settings"].size(), 1u);
  EXPECT_NE(properties["settings"][0].find(R"("max_attempts":4)"), std::string::npos);
  EXPECT_FALSE(properties.contains("shard"));

  const auto cases = children(suite, "testcase");
  ASSERT_EQ(cases.size(), 4u);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(attribute(cases[i], "classname"), "acme-payments");
    EXPECT_EQ(attribute(cases[i], "name"), run.failure_modes[i].id);
  }
  EXPECT_EQ(attribute(cases[0], "time"), "3.000");
  EXPECT_TRUE(children(cases[0], "failure").empty());
  const auto out = children(cases[0], "system-out");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].at("text").as_string().find("1200 requests, 1290 upstream attempts"), std::string::npos);

  const auto failure = children(cases[1], "failure");
  ASSERT_EQ(failure.size(), 1u);
  EXPECT_EQ(attribute(failure[0], "message"), "success_rate: expected >= 0.99, observed 0.9483 (and 2 more)");
  const std::string text(failure[0].at("text").as_string());
  for (const char* line : {"success_rate: expected >= 0.99, observed 0.9483\n  note: 189 of 193 retried early\n"
                           "  evidence: request 401 at 20.02s: dead_lettered (attempts_exhausted) after 1 attempts, last 503\n"
                           "  evidence: Idempotency-Key k-1: applied again (ok)\n",
                           "honors_retry_after: expected true, observed false\n  evidence: request 202 at 10.15s: early\n",
                           "detected_as: expected timeout, nothing observed\n", "times are plan time"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " in\n" << text;
  }

  const auto skipped = children(cases[2], "skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(attribute(skipped[0], "message"), "fault 'tls' (needs run --tls DIR)");
  const auto error = children(cases[3], "error");
  ASSERT_EQ(error.size(), 1u);
  EXPECT_EQ(attribute(error[0], "message"), "could not start the mock upstream");
}

// Ids, notes, reasons and evidence that try to break the XML: it stays well-formed, every value
// reads back as written (or visibly escaped where XML cannot carry it), and secrets stay out.
TEST(junit_report, adversarial_text_stays_well_formed_and_reads_back) {
  core::redactor::instance().add("sk_live_junit_secret");
  auto run = test::sample_run();
  run.plan_name = "pay<ments> & \"co\" 'x' ]]> \x01";
  run.phase = "";
  run.shard = scenario::shard_info{{2, 3}, 7};
  run.notes = {"line 1\nline 2\ttabbed\r\n<!-- not a comment --> &amp; sk_live_junit_secret",
               std::string("nul \0 here", 10)};
  run.failure_modes = {
      test::broken_mode("id<&>\"'", "note </failure> <![CDATA[ x ]]> \x1b[31mred",
                        "body \xff\xfe then \xed\xa0\x80 then caf\xc3\xa9 with sk_live_junit_secret"),
      test::other_mode("skip\"me", scenario::verdict::skipped, "reason <with> \"quotes\"\nand a line"),
      test::other_mode("err&", scenario::verdict::error, "harness failure: </error>\x0c"),
  };
  planproof::test::temp_dir dir;
  ASSERT_FALSE(write_junit(run, dir / "junit.xml"));
  const auto xml = planproof::test::read_file(dir / "junit.xml");
  core::redactor::instance().clear();
  EXPECT_EQ(xml.find("sk_live_junit_secret"), std::string::npos);
  EXPECT_NE(xml.find("[redacted]"), std::string::npos);

  const auto root = planproof::test::parse_xml(dir / "junit.xml");
  ASSERT_FALSE(root.is_null()) << xml;
  const boost::json::value suite = children(root, "testsuite").at(0);
  EXPECT_EQ(attribute(suite, "name"), "pay<ments> & \"co\" 'x' ]]> \\x01");
  std::vector<std::string> notes;
  std::string shard;
  for (const auto& p : children(children(suite, "properties").at(0), "property")) {
    if (attribute(p, "name") == "note") notes.push_back(attribute(p, "value"));
    if (attribute(p, "name") == "shard") shard = attribute(p, "value");
  }
  EXPECT_EQ(shard, "2/3");
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], "line 1\nline 2\ttabbed\r\n<!-- not a comment --> &amp; [redacted]");
  EXPECT_EQ(notes[1], "nul \\x00 here");

  const auto cases = children(suite, "testcase");
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(attribute(cases[0], "name"), "id<&>\"'");
  EXPECT_EQ(attribute(cases[0], "classname"), "pay<ments> & \"co\" 'x' ]]> \\x01");
  const std::string text(children(cases[0], "failure").at(0).at("text").as_string());
  EXPECT_NE(text.find("note: note </failure> <![CDATA[ x ]]> \\x1B[31mred\n"), std::string::npos) << text;
  EXPECT_NE(text.find("body \\xFF\\xFE then \\xED\\xA0\\x80 then caf\xc3\xa9 with [redacted]"), std::string::npos) << text;
  EXPECT_EQ(attribute(cases[1], "name"), "skip\"me");
  EXPECT_EQ(attribute(children(cases[1], "skipped").at(0), "message"), "reason <with> \"quotes\"\nand a line");
  EXPECT_EQ(attribute(cases[2], "name"), "err&");
  const auto error = children(cases[2], "error").at(0);
  EXPECT_EQ(attribute(error, "message"), "harness failure: </error>\\x0C");
  EXPECT_EQ(error.at("text").as_string(), "harness failure: </error>\\x0C");
}

TEST(junit_report, an_empty_run_is_an_empty_suite) {
  auto run = test::sample_run();
  run.failure_modes.clear();
  run.shard = scenario::shard_info{{4, 4}, 3};
  planproof::test::temp_dir dir;
  ASSERT_FALSE(write_junit(run, dir / "junit.xml"));
  const auto root = planproof::test::parse_xml(dir / "junit.xml");
  ASSERT_FALSE(root.is_null());
  const boost::json::value suite = children(root, "testsuite").at(0);
  EXPECT_EQ(attribute(suite, "tests"), "0");
  EXPECT_EQ(attribute(suite, "time"), "0.000");
  EXPECT_TRUE(children(suite, "testcase").empty());
}

TEST(junit_report, an_unwritable_path_is_an_error_and_leaves_nothing) {
  planproof::test::temp_dir dir;
  EXPECT_TRUE(write_junit(test::sample_run(), dir / "no-such-dir" / "junit.xml"));
}

}  // namespace
}  // namespace planproof::report
