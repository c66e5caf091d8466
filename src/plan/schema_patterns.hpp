// A schema's `pattern`s compiled once, for checking many values against the same schema (a client
// checking every response). Defined in model.cpp, beside the checker that uses them.
#pragma once

#include <memory>
#include <vector>

#include <boost/json/value.hpp>

#include "plan/model.hpp"

namespace planproof::plan {

// Compiling a std::regex costs far more than checking a small body against it, and the plain
// check_against_schema compiles every pattern it meets on each call. Immutable once built, so checks
// on several threads may share one.
class schema_patterns {
 public:
  struct table;  // defined in model.cpp
  schema_patterns() = default;
  explicit schema_patterns(const boost::json::value& schema);
  const table* get() const noexcept { return table_.get(); }

 private:
  std::shared_ptr<const table> table_;
};

// check_against_schema with the schema's patterns compiled beforehand (any other is compiled as usual).
std::vector<schema_mismatch> check_against_schema(const boost::json::value& schema, const boost::json::value& value,
                                                  const schema_patterns& patterns);

}  // namespace planproof::plan
