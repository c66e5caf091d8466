// The provider side of inbound webhooks: sends signed deliveries of an inbound endpoint's events to
// the receiver under test at the plan's rate, redelivers what is not answered 2xx as providers do,
// and injects the webhook faults (duplicates, out-of-order, bad signatures, bursts). Every attempt
// is recorded. The fault decisions are a pure, seeded planner below the Asio driver.
#pragma once

#include <cstdint>
#include <deque>
#include <queue>
#include <tuple>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/clock.hpp"
#include "core/webhook_signature.hpp"
#include "plan/model.hpp"

namespace planproof::mocks {

using namespace std::chrono_literals;

// --- faults ------------------------------------------------------------------------------------------
//
// Every webhook fault takes the plan's common fault keys: `probability`, `during` (plan time since
// traffic start, applied to the event's creation time), `first` / `every` / `after` (counted over
// the events in scope: `after` N skips the first N, then `every` N keeps every Nth, then `first` N
// keeps the first N of those) and `endpoint`. One seeded draw per fault in scope per event (per copy
// for bad_signature); the first fault of a kind whose draw is below its probability applies.

// Which events a webhook fault applies to, taken from plan::fault.
struct webhook_fault_scope {
  double probability = 1.0;
  std::vector<plan::time_window> during;  // empty = the whole run
  std::optional<std::uint64_t> first, every, after;
  // Index of the plan fault in the list given to faults_from_plan: how a caller names the fault
  // to turn it off and on (webhook_sender::set_fault_enabled) and to count what it did.
  std::size_t source = 0;
};

// The same event delivered `copies` times in all (the original included), `delay` apart.
struct duplicate_fault {
  webhook_fault_scope scope;
  int copies = 2;     // >= 2
  core::duration delay = 0s;
};

// The event's deliveries held back by a uniform draw in (0, window], so events created after it
// overtake it.
struct out_of_order_fault {
  webhook_fault_scope scope;
  core::duration window = 30s;  // > 0
};

enum class signature_kind : std::uint8_t {
  valid,
  wrong_secret,     // a well-formed signature made with another secret
  stale_timestamp,  // a correct MAC over a timestamp `age` in the past
  missing,          // no signature header (a separate timestamp header is still sent)
  malformed,        // a signature header that does not parse
  none,             // the endpoint declares no signature: nothing is signed
};
std::string_view to_string(signature_kind k) noexcept;
std::optional<signature_kind> parse_bad_signature_kind(std::string_view s) noexcept;  // the four bad ones

// The first delivery of an event (of each copy) signed badly. Redeliveries are signed validly: a
// provider whose delivery was rejected retries with a fresh signature, so a receiver that rejects
// bad signatures still gets the event.
struct bad_signature_fault {
  webhook_fault_scope scope;
  signature_kind kind = signature_kind::wrong_secret;
  // stale_timestamp: how old the timestamp is. Wall-clock seconds, not scaled: the receiver checks
  // it against its own clock. None = the endpoint's tolerance plus one minute.
  std::optional<core::duration> age;
};

// `count` extra events from plan time `at`, `rate` per second (0 = all at `at`). Happens or not as
// a whole: one draw against scope.probability when the schedule is made.
struct burst_fault {
  webhook_fault_scope scope;
  core::duration at = 0s;
  std::uint64_t count = 0;  // >= 1
  double rate = 0;          // events per second; 0 = at once
};

// A plan fault that could not be mapped; the fault is dropped whole, never half applied.
struct webhook_fault_error {
  core::source_location where;
  std::string message;
};

struct webhook_faults {
  std::vector<duplicate_fault> duplicates;
  std::vector<out_of_order_fault> out_of_order;
  std::vector<bad_signature_fault> bad_signatures;
  std::vector<burst_fault> bursts;
  std::vector<webhook_fault_error> errors;  // from faults_from_plan

  bool empty() const noexcept {
    return duplicates.empty() && out_of_order.empty() && bad_signatures.empty() && bursts.empty();
  }
};

// Maps the plan's webhook faults (kinds duplicate_delivery, out_of_order, bad_signature, burst; the
// others belong to the outbound mock and are skipped) for the inbound endpoint `endpoint_id` (empty:
// keep faults whatever their `endpoint`). Keys of `params`, besides the common ones:
//   duplicate_delivery  copies: integer 2..100 (default 2), delay: duration (default 0s)
//   out_of_order        window: duration > 0 (default 30s)
//   bad_signature       kind: wrong_secret | stale_timestamp | missing | malformed (default
//                       wrong_secret), age: duration > 0 (stale_timestamp only)
//   burst               count: integer 1..1000000 (required), rate: `200/s` or a number per second
//                       (default: all at once), at: duration (default the start of `during`)
// Durations are strings (`30s`) or the number 0; integers may be written as numbers or strings. An
// unknown key, a wrong type or a value out of range is an error in `errors`.
webhook_faults faults_from_plan(const std::vector<plan::fault>& faults, std::string_view endpoint_id = {});

// --- configuration -----------------------------------------------------------------------------------

struct webhook_target {
  std::string host = "127.0.0.1";  // an IP address (no name resolution)
  unsigned short port = 0;         // required
  std::string path;                // empty: the endpoint's path
  std::vector<core::header_field> headers;  // sent with every delivery
  // When set, this header carries the attempt number of the copy (1, 2, ...), as providers' own
  // delivery-attempt headers do.
  std::string attempt_header;
};

struct webhook_traffic {
  double rate = 10;                  // events per second of plan time; 0 = bursts only
  core::duration duration = 30s;     // base events are created in [0, duration)
  std::size_t max_in_flight = 8;     // deliveries awaiting an answer at once
  std::uint64_t max_events = 100'000;  // events created in all, bursts included; the rest dropped
};

// A delivery not answered 2xx (or not answered at all) is redelivered after min(max, base *
// multiplier^(n-1)) of plan time, until `max_attempts` attempts; then the copy is given up. No
// jitter: the waits are part of what a test checks, and the seed must reproduce the run.
struct provider_retry_policy {
  int max_attempts = 3;  // per copy, the first included; 1 = never redeliver
  core::duration base = 1s;
  double multiplier = 2.0;  // >= 1
  core::duration max = 1h;
};

// Plan time, scaled to real waits like every other plan duration: they are the provider's behaviour.
struct delivery_timeouts {
  core::duration connect = 5s;
  core::duration read = 10s;  // from the request's first byte to the whole response
};

struct webhook_sender_config {
  webhook_target target;
  plan::endpoint endpoint;  // inbound: signature, method, path, request example, dedup_key
  std::string secret;       // the signing secret itself; the caller resolves references
  webhook_traffic traffic;
  provider_retry_policy retry;
  delivery_timeouts timeouts;
  webhook_faults faults;  // `errors` are ignored here: the caller reports them
  std::uint64_t seed = 1;
  // Unix seconds for signature timestamps. Wall clock by default, not plan time: the receiver
  // checks them against its own clock, which the time scale does not touch.
  std::function<std::int64_t()> unix_now;
  std::size_t max_records = 1'000'000;
  std::uint64_t response_body_limit = 64 * 1024;
  // The sequence, and so the event id, of the first event: a later sender for the same endpoint
  // continues the numbering instead of sending event ids a receiver has already seen.
  std::uint64_t first_sequence = 1;
  // Faults (by scope.source) disabled from the start; see set_fault_enabled.
  std::vector<std::size_t> disabled_faults;
  // A stale_timestamp fault whose age is within the endpoint's tolerance is sent all the same
  // instead of refused as testing nothing: `run` judges a receiver built from the plan, and one
  // that accepts such a replay is what rejects_bad_signatures is there to catch.
  bool send_stale_within_tolerance = false;
};

// What is wrong with a configuration, empty when start() would accept it.
std::string validate(const webhook_sender_config& config);

// The mapping of plan::signature_config onto core's plain parameters.
core::webhook_signature_params signature_params(const plan::signature_config& s);

// The headers of one delivery attempt signed as `kind` says (none for signature_kind::none).
core::signed_headers sign_delivery(const core::webhook_signature_params& params, std::string_view secret,
                                   std::int64_t unix_now, std::string_view body, signature_kind kind,
                                   core::duration stale_age);

// The event body: `example` (an empty object when none) with the dotted `dedup_key` path set to
// `event_id`, intermediate objects created. nullopt when the path runs through a value that is not
// an object (or the example is not one).
std::optional<std::string> event_body(const std::optional<boost::json::value>& example, std::string_view dedup_key,
                                      std::string_view event_id);
// `evt_000001` for sequence 1.
// The header every delivery names its event in, the same on every copy and redelivery.
inline constexpr std::string_view event_id_header = "Webhook-Id";
std::string event_id(std::uint64_t sequence);

// --- the pure planner --------------------------------------------------------------------------------

struct scheduled_event {
  core::duration at{};  // creation, plan time since origin
  bool burst = false;
  std::size_t burst_source = 0;  // burst events: the scope.source of the burst that added it
};

struct event_schedule {
  std::vector<scheduled_event> events;  // in creation order (time, then base before burst)
  std::uint64_t dropped = 0;            // beyond traffic.max_events
};

// What happens to one event. Copies are delivered at created + hold + i * copy_delay.
struct event_decision {
  int copies = 1;
  core::duration copy_delay{};
  core::duration hold{};                   // zero: not held back
  std::vector<signature_kind> signatures;  // first attempt of each copy; size() == copies
  std::vector<core::duration> stale_ages;  // per copy, for stale_timestamp
  // scope.source of each fault that applied (a bad_signature once per copy it spoiled).
  std::vector<std::size_t> applied;
  bool operator==(const event_decision&) const = default;
};

// The seeded fault decisions, with no clock and no socket: the same seed and faults give the same
// schedule and the same decision for the nth event, whatever the network does.
class webhook_fault_planner {
 public:
  // `signed_endpoint` false: bad_signature faults do nothing (there is no signature to spoil).
  webhook_fault_planner(webhook_faults faults, std::uint64_t seed, bool signed_endpoint = true,
                        core::duration default_stale_age = 6min);

  // Base traffic and bursts merged. Takes one draw per burst fault; call once, before decide().
  event_schedule schedule(const webhook_traffic& traffic);
  // For events in creation order. A fault whose scope.source is in `disabled` counts the event and
  // takes its selection draw as if enabled, but does not apply: switching it does not move the
  // other faults' first/every/after counts, and events it would not have picked are decided as
  // with it enabled. (Where it would have applied, decisions differ: one copy instead of two takes
  // fewer bad_signature draws.)
  event_decision decide(core::duration created_at, std::span<const std::size_t> disabled = {});

 private:
  bool applies(const webhook_fault_scope& scope, std::uint64_t& seen, core::duration t, bool enabled = true);
  double draw();

  webhook_faults faults_;
  std::mt19937_64 rng_;
  bool signed_;
  core::duration default_stale_age_;
  // Events in scope so far, per fault (first/every/after count them).
  std::vector<std::uint64_t> duplicate_seen_, out_of_order_seen_, bad_signature_seen_;
};

// --- records -----------------------------------------------------------------------------------------

enum class delivery_error : std::uint8_t {
  none,
  connect_timeout,
  connection_refused,
  read_timeout,        // no complete response within timeouts.read
  connection_reset,
  connection_closed,   // closed before a complete response
  protocol_error,      // not HTTP, or a response over the limits
  other,
};
std::string_view to_string(delivery_error e) noexcept;

enum class delivery_outcome : std::uint8_t {
  delivered,  // answered 2xx
  retrying,   // not 2xx; a redelivery is scheduled
  gave_up,    // not 2xx and this was the last attempt
};
std::string_view to_string(delivery_outcome o) noexcept;

struct delivery_record {
  std::string event_id;
  std::uint64_t sequence = 0;  // creation order, from config.first_sequence
  int copy = 0;                // 0 = the original, 1.. = duplicate copies
  int attempt = 1;             // of this copy; > 1 = a provider redelivery
  bool duplicate = false;      // copy > 0
  bool redelivery = false;     // attempt > 1
  bool held_back = false;      // the event was held back (out_of_order)
  bool burst = false;          // the event came from a burst
  signature_kind signature = signature_kind::valid;
  core::duration sent_at{};    // plan time since origin when the attempt started
  int status = 0;              // 0 when none
  delivery_error error = delivery_error::none;
  core::duration latency{};    // plan time from start to the answer or the error
  delivery_outcome outcome = delivery_outcome::delivered;
};

struct webhook_sender_counters {
  std::uint64_t events = 0;          // created
  std::uint64_t dropped_events = 0;  // beyond traffic.max_events, never created
  std::uint64_t copies = 0;          // deliveries created (events + duplicate copies)
  std::uint64_t attempts = 0;        // attempts finished (recorded or not)
  std::uint64_t delivered = 0;       // copies answered 2xx
  std::uint64_t given_up = 0;        // copies that used every attempt
  std::uint64_t redeliveries = 0;    // attempts after the first of their copy
  std::uint64_t bad_signatures = 0;  // attempts sent with a bad signature
  std::uint64_t errors = 0;          // attempts with no status
  std::uint64_t in_flight = 0;
  std::uint64_t dropped_records = 0;  // attempts beyond max_records
  std::uint64_t held_back_events = 0;  // events an out_of_order fault held back
  std::uint64_t duplicated_events = 0;  // events a duplicate_delivery fault sent more than once
  std::uint64_t burst_events = 0;       // events a burst added (created, not skipped)
  std::uint64_t skipped_burst_events = 0;  // burst events not created: the burst fault was disabled
  // Per fault (scope.source): events (copies, for bad_signature) it applied to.
  std::map<std::size_t, std::uint64_t> injected;
};

// --- the sans-io provider ------------------------------------------------------------------------------

// One delivery attempt the provider is to make now: the request as it goes on the wire (the
// transport adds Host, User-Agent, Content-Type and Connection), and which copy and attempt it is.
struct delivery_attempt {
  std::uint64_t sequence = 0;  // index in the schedule + 1 (not the event id's number)
  int copy = 0;
  int attempt = 1;
  signature_kind signature = signature_kind::valid;
  std::string method;
  std::string target;
  std::vector<core::header_field> headers;
  std::string body;
};

// The provider with no clock and no socket: events created in schedule order with the planner's
// decisions, attempts handed out when due and a slot is free, answers turned into records and
// redeliveries. The Asio sender and the simulator drive it with their own clocks, so both deliver
// the same events with the same faults for the same seed.
class delivery_core {
 public:
  explicit delivery_core(webhook_sender_config config);

  // Validates the configuration and builds the schedule: empty on success, else what is wrong.
  std::string start();
  const webhook_sender_config& config() const noexcept { return config_; }

  // Creates the events due by `now` (plan time since origin), decided with the faults whose
  // scope.source is in `disabled` turned off.
  void create_due(core::duration now, std::span<const std::size_t> disabled);
  // The next attempt due by `now` when fewer than traffic.max_in_flight are in flight, signed at
  // `unix_now`; it is in flight until finish() or abandon().
  std::optional<delivery_attempt> take_due(core::duration now, std::int64_t unix_now);
  // How an attempt started at `started` ended at `finished` (status 0: `error`): recorded, and a
  // redelivery scheduled when it was not answered 2xx and attempts are left.
  const delivery_record& finish(const delivery_attempt& a, core::duration started, core::duration finished,
                                int status, delivery_error error);
  // An attempt cut short (the sender stopped): counted as in flight no more, not recorded.
  void abandon();

  // When something is next due: an event's creation, or a delivery when a slot is free.
  std::optional<core::duration> next_due() const;
  // Every event created and every copy delivered or given up.
  bool finished() const noexcept;

  const webhook_sender_counters& counters() const noexcept { return counters_; }
  const std::deque<delivery_record>& records() const noexcept { return records_; }

 private:
  struct event_state {
    std::uint64_t number = 0;  // the sequence in the id: first_sequence, then one more per event created
    std::string id;
    std::string body;  // released once every copy has finished
    event_decision decision;
    bool burst = false;
    int copies_open = 0;
  };
  // Ties go to the older event so that, with one delivery in flight, arrival order is exactly the
  // order of due times and then creation.
  struct pending_delivery {
    core::duration due{};
    std::uint64_t sequence = 0;
    int copy = 0;
    int attempt = 1;
    auto key() const { return std::tie(due, sequence, copy, attempt); }
    bool operator>(const pending_delivery& o) const { return key() > o.key(); }
  };
  core::duration backoff(int attempt) const;

  webhook_sender_config config_;
  core::webhook_signature_params params_;
  std::string method_, target_;
  std::optional<webhook_fault_planner> planner_;
  event_schedule schedule_;
  std::size_t next_event_ = 0;
  std::uint64_t created_ = 0;  // events created (skipped burst events not counted)
  std::deque<event_state> events_;  // by sequence - 1; a deque keeps references stable as it grows
  std::priority_queue<pending_delivery, std::vector<pending_delivery>, std::greater<>> pending_;
  webhook_sender_counters counters_;
  std::deque<delivery_record> records_;
  delivery_record dropped_;  // the record of an attempt beyond max_records, returned by finish()
};

namespace detail {
class webhook_sender_state;
}

class webhook_sender {
 public:
  // Work runs on a strand of `ex` (any executor, one or many threads). `clock` gives plan time and
  // must outlive the sender; `origin` is plan time zero, when the first base event is created;
  // `scale` turns plan waits into real ones.
  webhook_sender(boost::asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
                 core::time_scale scale, webhook_sender_config config);
  ~webhook_sender();  // stop()s
  webhook_sender(const webhook_sender&) = delete;
  webhook_sender& operator=(const webhook_sender&) = delete;

  // Validates the configuration (std::errc::invalid_argument, details logged and in
  // start_error()), builds the schedule and starts sending. A second call, or one after stop(),
  // fails (operation_in_progress, operation_canceled).
  std::error_code start();
  const std::string& start_error() const noexcept;

  // Safe from any thread, idempotent: no delivery starts afterwards, open connections are closed
  // and timers cancelled on the strand. Attempts cut short are counted, not recorded; the clock is
  // not read once stop() has returned.
  void stop();

  // Safe from any thread, before or after start(): events created afterwards are decided with the
  // fault (every fault whose scope.source is `source`) on or off. A disabled burst's events that
  // come due while it is off are skipped, not delayed.
  void set_fault_enabled(std::size_t source, bool enabled);

  std::vector<delivery_record> records() const;  // snapshot, in the order attempts finished
  webhook_sender_counters counters() const;
  bool done() const;  // every event created and every copy delivered or given up

  // Blocks the calling thread (never the executor's) until done() or `timeout` (real time) passes,
  // or stop() is called; true when done.
  bool wait_until_done(core::duration timeout) const;

 private:
  std::shared_ptr<detail::webhook_sender_state> state_;
};

}  // namespace planproof::mocks
