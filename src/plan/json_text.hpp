// JSON values from a plan (examples, schemas) written back as text the way a person wrote them:
// compact, and numbers in their shortest round-trip form (9.99, not 9.99E0).
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace planproof::plan {

// Compact JSON. A double is written in its shortest form that reads back as the same double, with
// ".0" added when that form looks like an integer (1.0 stays a fraction); a double that is not
// finite, which JSON cannot carry, is written as null.
std::string json_text(const boost::json::value& v);

}  // namespace planproof::plan
