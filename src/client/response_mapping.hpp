// Data mapping at run time: a response body checked against its endpoint's schema and turned into the
// plan's target record(s), or the reasons, field by field, why it cannot be. Pure: no I/O, never throws.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"
#include "plan/model.hpp"

namespace planproof::client {

namespace detail {
struct compiled_mapping;
}

struct mapping_issue {
  // Where in the body: `data[3].work_email`, `amount`, `[2]` (a bare array's record); empty for the
  // body itself.
  std::string path;
  std::string message;  // "expected string, got null"; mapping issues name their target at the end
  // The record it belongs to on a list endpoint; none when it concerns the body as a whole.
  std::optional<std::size_t> record;

  // "data[3].work_email: expected string, got null"; the message alone for the body itself.
  std::string str() const;
};

// One line for dead-letter records and evidence: the issues' str() joined by "; ", then
// "; and N more" when `more` were found beyond them.
std::string summarize(const std::vector<mapping_issue>& issues, std::size_t more = 0);

struct mapping_result {
  // What to use when ok(). A single-record endpoint: the mapped object. A list endpoint: an array with
  // one entry per record of the body, null for each rejected record. Null when body_rejected. With no
  // mapping (schema only), the body (or its records) as parsed.
  boost::json::value mapped;
  std::vector<mapping_issue> issues;  // at most response_mapper::max_issues, in the order found
  std::size_t more_issues = 0;        // found beyond the cap: counted, not kept
  std::size_t records = 0;            // records in the body (1 for a single-record endpoint)
  std::size_t rejected = 0;           // records with at least one issue
  bool list = false;                  // the body was read as a list of records
  // An issue outside every record (not JSON, a broken envelope, any issue on a single-record
  // endpoint): nothing in the body can be used. Otherwise a list endpoint's good records can be.
  bool body_rejected = false;
  // A record carried fields the mapping does not name while it says `unmapped: reject`: the
  // upstream's shape changed (a field added or renamed), not one record's values.
  bool unmapped_fields = false;

  bool ok() const noexcept { return issues.empty(); }
  // What an attempt whose body maps with issues failed with.
  core::error_class error() const noexcept { return ok() ? core::error_class::none : core::error_class::schema_error; }
  std::string summary() const { return summarize(issues, more_issues); }
};

// The plan's mapping of what `e` receives: the response mapping of an outbound endpoint, the request
// mapping of an inbound one (a webhook delivery); null when the plan has none.
const plan::data_mapping* received_mapping(const plan::integration_plan& plan, const plan::endpoint& e) noexcept;

// Built once per endpoint (regexes compiled, paths split), then map() per response: cheap, const, safe
// to call from several threads at once. It copies what it needs from the plan, so the plan may go.
//
// Semantics, where the plan format leaves a choice:
// - Records: on an endpoint whose pagination names `items` (and whose mapping, if any, reads under
//   it), each element of that array is a record; sources under the items path (`data.work_email`
//   with `items: data`) are read from the record, other sources (`meta.total_count`) from the body.
//   A body that is a bare JSON array is a list too; anything else is one record.
// - JSON null counts as absent: the default applies, a required field without one is an issue, an
//   optional one is left out of the output.
// - A default is the target value as written: it is type-checked and validated, not transformed.
// - Types check the value after the transforms, converting only without loss: a whole number to an
//   integer (scale's rounding error is snapped), a timestamp to UTC. `timestamp` is RFC 3339 text
//   (offset `Z`, `+01:00` or `+0100`, as Salesforce writes it), normalised to `...Z`; unix seconds must
//   go through unix_to_rfc3339, so an API switching between the two forms is caught. `date` is a real
//   calendar date YYYY-MM-DD; `currency` three capital letters; `enum` any scalar.
// - Unmapped fields are the record's top-level names no source starts with (`department` is mapped
//   when `data.department.name` is). The envelope of a list is never "unmapped".
// - lowercase, uppercase, currency_upper and trim work on ASCII, whatever the locale.
class response_mapper {
 public:
  static constexpr std::size_t max_issues = 20;
  // Deeper bodies are not JSON we accept: this bounds every recursion over the body.
  static constexpr std::size_t max_depth = 64;

  // `mapping` may be null (schema check only). For a request mapping (an inbound endpoint) the body
  // is checked against the request schema instead of the response schema.
  response_mapper(const plan::endpoint& endpoint, const plan::data_mapping* mapping);
  ~response_mapper();
  response_mapper(response_mapper&&) noexcept;
  response_mapper& operator=(response_mapper&&) noexcept;

  mapping_result map(std::string_view body) const;
  // For a body already parsed (with a depth bound of its own: checking it recurses). Not an overload
  // of map(): a string literal converts to both.
  mapping_result map_value(const boost::json::value& body) const;

  // False when there is neither a schema nor a mapping: map() then accepts any body unread.
  bool active() const noexcept;
  // Whether bodies are read as lists of records by the plan's pagination `items`.
  bool paginated_records() const noexcept;

 private:
  std::unique_ptr<const detail::compiled_mapping> impl_;  // keeps <regex> out of this header
};

// What the client makes of a success answer's body: with a mapper (the endpoint has a response
// schema or mapping), a body that is not JSON or cannot be used at all is a schema_error, and bad
// records of a list are set aside (`rejected`) while the rest is used; without one, an endpoint
// that promises a JSON body (an example) gets a schema_error for one that does not parse. `detail`
// says where, when there is an error or a record set aside. The live client and the simulator
// both judge answers with it.
struct body_check {
  core::error_class error = core::error_class::none;
  std::size_t records = 0;   // records of a list body
  std::size_t rejected = 0;  // ...set aside
  std::string detail;
};
// An empty Content-Type or one naming json.
bool is_json_content_type(std::string_view content_type) noexcept;
body_check check_success_body(const plan::endpoint& endpoint, const response_mapper* mapper,
                              std::string_view content_type, std::string_view body);

}  // namespace planproof::client
