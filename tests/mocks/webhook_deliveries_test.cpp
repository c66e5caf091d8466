// serve's provider side on its own: which webhook faults each inbound endpoint takes, turning them
// off and on, the bounds on batches, the delivery lines and metrics, and the admin operations on
// them. Nothing here needs a receiver: the executor is never run, so no delivery leaves.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "mocks/admin_api.hpp"
#include "mocks/exposition.hpp"
#include "mocks/webhook_deliveries.hpp"
#include "server_fixture.hpp"

namespace planproof::mocks::testing {
namespace {

plan::endpoint inbound(std::string id, bool signed_endpoint) {
  plan::endpoint e;
  e.id = std::move(id);
  e.direction = plan::endpoint_direction::inbound;
  e.method = "POST";
  e.path = "/hooks/" + e.id;
  e.dedup_key = "id";
  if (signed_endpoint) {
    plan::signature_config s;
    s.header = "X-Signature";
    e.signature = s;
  }
  return e;
}

webhook_fault_entry fault(std::string kind, std::string mode, std::optional<std::string> endpoint = std::nullopt) {
  plan::fault f;
  f.kind = std::move(kind);
  f.endpoint = std::move(endpoint);
  if (f.kind == "burst") f.params["count"] = 5;
  return {f, std::move(mode)};
}

struct fixture {
  boost::asio::io_context io;
  core::plan_clock clock{core::time_scale{1.0}};
  std::unique_ptr<webhook_deliveries> deliveries;

  explicit fixture(std::vector<webhook_fault_entry> faults, webhook_deliveries_options o = {}) {
    o.port = 9;  // never reached: the executor does not run
    std::vector<inbound_stream> streams{{inbound("signed", true), "s3cret", 10, 4},
                                        {inbound("plain", false), "", 1, 2}};
    deliveries = std::make_unique<webhook_deliveries>(io.get_executor(), clock, std::move(streams), std::move(faults), o);
  }
};

TEST(webhook_deliveries, faults_that_cannot_apply_to_an_endpoint_are_left_out_with_a_note) {
  fixture f({fault("duplicate_delivery", "dupes"), fault("bad_signature", "forged"),
             fault("out_of_order", "late", "get_order"), fault("burst", "rush", "signed")});
  const auto& notes = f.deliveries->notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0], "forged: bad_signature on plain: bad_signature: endpoint 'plain' has no signature to spoil");
  EXPECT_EQ(notes[1], "late: out_of_order: endpoint get_order is not an inbound endpoint");
  EXPECT_EQ(f.deliveries->url_of(f.deliveries->streams()[0]), "http://127.0.0.1:9/hooks/signed");
}

TEST(webhook_deliveries, faults_switch_by_index_and_start_as_the_options_say) {
  webhook_deliveries_options o;
  o.disabled = {1};
  fixture f({fault("duplicate_delivery", "dupes"), fault("bad_signature", "forged", "signed")}, o);
  auto faults = f.deliveries->faults();
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_TRUE(faults[0].enabled);
  EXPECT_FALSE(faults[1].enabled);
  EXPECT_EQ(faults[1].failure_mode, "forged");
  EXPECT_EQ(faults[1].endpoint, "signed");
  EXPECT_TRUE(f.deliveries->set_fault_enabled(1, true));
  EXPECT_FALSE(f.deliveries->set_fault_enabled(2, true));
  EXPECT_TRUE(f.deliveries->faults()[1].enabled);
}

TEST(webhook_deliveries, batches_are_bounded_in_size_and_number) {
  webhook_deliveries_options o;
  o.max_batches = 2;
  fixture f({}, o);
  EXPECT_EQ(f.deliveries->send(1), "deliveries have not started");
  EXPECT_EQ(f.deliveries->start(), "");
  EXPECT_EQ(f.deliveries->start(), "deliveries have started already");
  EXPECT_EQ(f.deliveries->batches(), 1u);
  EXPECT_EQ(f.deliveries->send(0), "count must be from 1 to 10000, got 0");
  EXPECT_EQ(f.deliveries->send(10'001), "count must be from 1 to 10000, got 10001");
  EXPECT_EQ(f.deliveries->send(3), "");
  EXPECT_EQ(f.deliveries->send(3), "at most 2 batches of deliveries per serve (2 sent already)");
  f.deliveries->stop();
  EXPECT_EQ(f.deliveries->send(3), "the mock is stopping");
}

TEST(webhook_exposition, a_delivery_line_says_what_shaped_the_attempt) {
  delivery_record r;
  r.event_id = "evt_000007";
  r.sequence = 7;
  r.copy = 1;
  r.attempt = 2;
  r.duplicate = true;
  r.redelivery = true;
  r.burst = true;
  r.signature = signature_kind::stale_timestamp;
  r.sent_at = 1500ms;
  r.status = 401;
  r.latency = 2ms;
  r.outcome = delivery_outcome::retrying;
  EXPECT_EQ(delivery_line({"orders", r}),
            R"({"at_ms":1500.000,"endpoint":"orders","event_id":"evt_000007","sequence":7,"copy":1,"attempt":2,)"
            R"("faults":["duplicate_delivery","bad_signature","burst"],"signature":"stale_timestamp","status":401,)"
            R"("error":"none","outcome":"retrying","latency_ms":2.000})");
  delivery_record plain;
  plain.event_id = "evt_000001";
  plain.held_back = true;
  plain.error = delivery_error::connection_refused;
  plain.outcome = delivery_outcome::gave_up;
  const auto line = delivery_line({"o", plain});
  EXPECT_NE(line.find(R"("faults":["out_of_order"],"signature":"valid","status":0,"error":"connection_refused","outcome":"gave_up")"),
            std::string::npos)
      << line;
  EXPECT_EQ(deliveries_text({{"o", plain}, {"o", plain}}), line + "\n" + line + "\n");
}

TEST(webhook_exposition, metrics_count_attempts_by_outcome_and_faults_by_kind) {
  endpoint_delivery_totals t{"orders", {}};
  t.counters.events = 10;
  t.counters.attempts = 14;
  t.counters.delivered = 9;
  t.counters.given_up = 1;
  const std::vector<webhook_fault_state> faults{{0, "dupes", "duplicate_delivery", "orders", true, 3},
                                                {1, "forged", "bad_signature", std::nullopt, false, 2},
                                                {2, "forged", "bad_signature", std::nullopt, true, 1},
                                                {3, "rush", "burst", std::nullopt, false, 0}};
  const auto text = webhook_prometheus_text({t}, faults);
  for (const char* sample :
       {"planproof_mock_webhook_deliveries_total{endpoint=\"orders\",outcome=\"delivered\"} 9\n",
        "planproof_mock_webhook_deliveries_total{endpoint=\"orders\",outcome=\"retrying\"} 4\n",
        "planproof_mock_webhook_deliveries_total{endpoint=\"orders\",outcome=\"gave_up\"} 1\n",
        "planproof_mock_webhook_events_total{endpoint=\"orders\"} 10\n",
        "planproof_mock_webhook_faults_injected_total{kind=\"bad_signature\"} 3\n",
        "planproof_mock_webhook_faults_injected_total{kind=\"burst\"} 0\n",
        "planproof_mock_webhook_fault_enabled{index=\"1\",failure_mode=\"forged\",kind=\"bad_signature\"} 0\n",
        "# TYPE planproof_mock_webhook_deliveries_total counter\n"}) {
    EXPECT_NE(text.find(sample), std::string::npos) << sample << "\n" << text;
  }
}

boost::json::value body_of(const admin_response& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  EXPECT_FALSE(ec) << r.body;
  return v;
}

TEST(admin_handler_deliveries, without_deliveries_every_delivery_operation_says_how_to_get_them) {
  running_server mock({});
  admin_handler h(mock.srv(), {default_routes(), {}, {"m"}});
  for (const auto& [method, target] : {std::pair{"GET", "/deliveries"}, {"GET", "/deliveries/faults"},
                                       {"GET", "/deliveries/faults/0"}, {"POST", "/deliveries/send?count=1"},
                                       {"POST", "/deliveries/faults/0/enable"}}) {
    const auto r = h.handle(method, target, "");
    EXPECT_EQ(r.status, 409u) << target;
    EXPECT_NE(r.body.find("--deliver-to"), std::string::npos) << r.body;
  }
  EXPECT_FALSE(body_of(h.handle("GET", "/failure-modes/m", "")).as_object().contains("webhook_faults"));
}

TEST(admin_handler_deliveries, failure_modes_switch_their_webhook_faults_too) {
  fixture f({fault("duplicate_delivery", "dupes"), fault("bad_signature", "forged", "signed"),
             fault("burst", "forged", "signed")});
  running_server mock({});
  admin_catalog c{default_routes(), {}, {"dupes", "forged", "none"}};
  c.deliveries = f.deliveries.get();
  admin_handler h(mock.srv(), c);

  auto r = h.handle("POST", "/failure-modes/forged/disable", "");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_FALSE(body_of(r).at("enabled").as_bool());
  EXPECT_EQ(body_of(r).at("webhook_faults").as_array().size(), 2u);
  auto faults = f.deliveries->faults();
  EXPECT_TRUE(faults[0].enabled);
  EXPECT_FALSE(faults[1].enabled);
  EXPECT_FALSE(faults[2].enabled);
  EXPECT_FALSE(body_of(h.handle("GET", "/failure-modes/none", "")).at("enabled").as_bool());

  r = h.handle("POST", "/deliveries/faults/2/enable", "");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(body_of(r), boost::json::parse(
                            R"({"index":2,"failure_mode":"forged","kind":"burst","endpoint":"signed","enabled":true,"injected":0})"));
  EXPECT_EQ(body_of(h.handle("GET", "/deliveries/faults", "")).as_array().size(), 3u);
  r = h.handle("POST", "/deliveries/faults/x/enable", "");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("webhook faults are numbered 0 to 2"), std::string::npos) << r.body;
  EXPECT_EQ(h.handle("GET", "/deliveries/faults/3", "").status, 404u);
  EXPECT_EQ(h.handle("GET", "/deliveries/send?count=1", "").status, 405u);

  r = h.handle("POST", "/deliveries/send?count=2", "");
  EXPECT_EQ(r.status, 409u) << "not started: " << r.body;
  ASSERT_EQ(f.deliveries->start(), "");
  for (const char* bad : {"/deliveries/send", "/deliveries/send?count=", "/deliveries/send?count=-1",
                          "/deliveries/send?count=10001", "/deliveries/send?count=2x"}) {
    EXPECT_EQ(h.handle("POST", bad, "").status, 400u) << bad;
  }
  r = h.handle("POST", "/deliveries/send?other=1&count=2", "");
  ASSERT_EQ(r.status, 202u) << r.body;
  EXPECT_EQ(body_of(r), boost::json::parse(R"({"sending":2,"endpoints":["signed","plain"],"batch":2})"));
  r = h.handle("GET", "/deliveries", "");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  r = h.handle("GET", "/metrics", "");
  EXPECT_NE(r.body.find("planproof_mock_webhook_fault_enabled{index=\"1\",failure_mode=\"forged\",kind=\"bad_signature\"} 0\n"),
            std::string::npos)
      << r.body;
}

}  // namespace
}  // namespace planproof::mocks::testing
