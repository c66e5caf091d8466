// Schema drift: the example body as an upstream would send it after an unannounced change, with
// fields dropped, renamed, given a value of another type, or added. Built once per fault and route.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "plan/model.hpp"

namespace planproof::mocks {

// The serialized example with `f`'s drift applied. Paths are dotted field names; an array on the
// way applies the edit to every element (`data.work_email` edits each record of `data`). A rename
// keeps the field in its object under the last segment of the new name. A path that names
// nothing is left alone; an added field (the string "added") goes into every object holding its
// parent path.
std::string drifted_body(const boost::json::value& example, const plan::fault& f);

}  // namespace planproof::mocks
