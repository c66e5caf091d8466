// The plan as the document a team reviews: Markdown with a title, the assumptions, then the six
// artifacts as numbered sections (1. Auth Method ... 6. Phase 1 vs Phase 2 Plan).
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "plan/model.hpp"

namespace planproof::plan {

// Deterministic output: the same plan always renders to the same bytes, so a rendered document can
// be committed beside its plan and checked for staleness.
std::string render_markdown(const integration_plan& plan);

// JSON indented by two spaces, keys in document order: for example payloads in the document.
std::string pretty_json(const boost::json::value& value);

}  // namespace planproof::plan
