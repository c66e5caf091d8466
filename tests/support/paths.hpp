// Where the tests find the source tree and the built planproof. Defined in a source file the build
// generates, so no other test object depends on where the tree is cloned: a clone elsewhere reuses
// every cached object but that one.
#pragma once

#include <string>

namespace planproof::test {

const std::string& source_dir();
const std::string& planproof_executable();

}  // namespace planproof::test
