// `planproof dlq replay`: dead letters sent again through the client the plan configures (its
// retry settings and auth), each with the X-Request-Id and idempotency key it was first sent
// with, so an upstream that already applied one answers it from its idempotency store instead
// of applying it twice. Records that fail again go to another dead-letter file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/limits.hpp"
#include "client/dead_letter.hpp"
#include "plan/model.hpp"
#include "scenario/event_log.hpp"

namespace planproof::scenario {

// One dead letter to send again.
struct replay_item {
  std::size_t line = 0;  // in the dead-letter file; also the request number in logs and new dead letters
  const plan::endpoint* endpoint = nullptr;
  std::string target;           // path and query, as first sent
  std::string body;             // as first sent; empty for none
  std::string idempotency_key;  // the id first sent; empty when the record has none (a fresh one is made)
};

struct skipped_line {
  std::size_t line = 0;
  std::string why;
};

struct replay_selection {
  std::vector<replay_item> items;
  // Records that contradict the plan (an endpoint it does not have): nothing may be sent until
  // the plan and the file agree. One message per record, naming its line.
  std::vector<std::string> errors;
  // Lines that cannot be replayed on their own terms (torn, not a record): skipped and reported.
  std::vector<skipped_line> skipped;
  std::size_t skipped_count = 0;  // beyond those listed too
  // Lines that record something other than a failed request (`"kind": "rejected_records"`: records
  // a mapping rejected from a response that succeeded): nothing to send again, left alone.
  std::vector<skipped_line> other_records;
};

// Checks every record of a dead-letter file against the plan and turns it into what the client
// sends. Sends nothing.
replay_selection select_replay(const plan::integration_plan& plan, const client::dead_letter_file& file);

struct replay_options {
  std::optional<std::string> phase;  // whose retry settings; none = the plan's
  std::string upstream;              // http(s)://HOST:PORT[/PREFIX]; empty = the plan's base_url
  std::string upstream_ca;           // https: PEM file of the CAs to trust; empty = the system store
  bool insecure = false;             // https: the certificate is not checked (dlq replay --insecure)
  std::filesystem::path out;         // where records that fail again are appended
  // Where each record is marked, fsynced, before it is sent and after it ends, so that a replay
  // cut short (killed, crashed) and started again sends no record twice; removed once every record
  // has ended. Empty: no marks.
  std::filesystem::path progress;
  bool restart = false;  // the marks of an earlier replay are dropped: every record is sent again
  std::optional<double> rate;        // requests per second; none = the plan's traffic rate
  boost::json::object context;       // added to every new dead letter and log line
  event_log* log = nullptr;
  // `--limit`: response_headers and response_body bound what the client reads of an answer.
  core::limits limits;
};

enum class replay_status {
  done,           // every item was sent and ended (succeeded, dead-lettered again, or failed)
  usage_error,    // the plan, its secrets or the URL do not allow a replay; nothing was sent
  unreachable,    // the upstream could not be resolved or connected to; nothing was sent
  harness_error,  // the output file could not be opened; nothing was sent
};

struct replay_result {
  replay_status status = replay_status::done;
  std::string error;  // why, for people, when not done
  std::string upstream_url;
  std::size_t replayed = 0;
  std::size_t succeeded = 0;
  std::size_t dead_lettered = 0;  // appended to `out`
  std::size_t failed = 0;         // not even the new dead letter could be written
  // Resumed from the marks of a replay that did not finish: records it had started are not sent
  // again; `in_doubt` are the lines it started and never saw end (sent, or not, at most once).
  std::size_t resumed = 0;
  std::vector<std::size_t> in_doubt;
};

replay_result replay(const plan::integration_plan& plan, const std::vector<replay_item>& items,
                     const replay_options& options);

}  // namespace planproof::scenario
