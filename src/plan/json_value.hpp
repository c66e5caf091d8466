// Questions about JSON values that schema checks and the data mapping both ask: what type a schema
// would call it, its number, whether two values are the same in JSON Schema's sense.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace planproof::plan {

// The JSON type as a schema names it: null, boolean, integer (int64/uint64), number (any double,
// even one with no fraction), string, array, object.
std::string_view json_type_name(const boost::json::value& v) noexcept;
// The value as a double when it is a number.
std::optional<double> json_number(const boost::json::value& v) noexcept;
// Equality as JSON Schema means it (enum, const): 1 and 1.0 are the same number; arrays and objects
// compare member by member.
bool json_same(const boost::json::value& a, const boost::json::value& b);
// A double in its shortest round-trip form, for messages ("expected a value >= 0.5").
std::string format_number(double d);

}  // namespace planproof::plan
