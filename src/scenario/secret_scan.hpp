// The `no_secret_in_logs` expectation's evidence: every form a credential of the run can take on the
// wire, searched for in every byte the run wrote or kept for a failure mode. Its own oracle, not the
// redactor's list: it also knows the encodings a secret travels in and the tokens issued mid-run.
// Findings name the form, the artifact and the place, never the value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/run_stats.hpp"

namespace planproof::scenario {

struct auth_material;  // scenario/auth_material.hpp

struct secret_form {
  // Safe to print. `credential`: "secret env:PAY_KEY", "OAuth2 token 2 the client received";
  // `group`: what reports count it under ("OAuth2 tokens the client received"), the credential
  // itself for a plan's secret; `encoding`: "raw", "base64", "HTTP Basic"...
  std::string credential;
  std::string group;
  std::string encoding;
  std::string value;  // never printed

  std::string name() const;  // "secret env:PAY_KEY as base64", or the credential when raw
};

// `value` and the encodings it can travel in: form-encoded, JSON-escaped (as in a JSON line),
// base64, base64url and hex. A form equal to one already in `out` is not added again.
void add_secret_forms(std::vector<secret_form>& out, const std::string& credential, std::string_view value,
                      const std::string& group = {});

// The forms of the run's resolved (or generated) credentials: each secret with its encodings, and
// for OAuth2 the HTTP Basic credentials of `client_id:client_secret` as the client sends them.
std::vector<secret_form> secret_forms(const auth_material& auth);

struct scanned_artifact {
  std::string name;  // "decision log run.log", "dead-letter file dead.jsonl", "report texts"
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;  // lines, or records for what is not a file
};

struct secret_finding {
  std::string artifact;
  std::string form;  // the form's name
  std::uint64_t line = 0;    // 1-based: in the whole file for a file, else the record's number
  std::uint64_t offset = 0;  // bytes from the start of the file (of the record otherwise)
  std::uint64_t request = 0;  // the logical request of the line or record; 0 when none is named
  double at_ms = 0;           // plan time of the line or record; 0 when none is named
};

class secret_scan {
 public:
  static constexpr std::size_t max_findings = run_stats::max_evidence;

  secret_scan() = default;
  explicit secret_scan(std::vector<secret_form> forms);
  // A token issued during the run, searched for as its raw and encoded forms.
  void add_forms(const std::string& credential, std::string_view value, const std::string& group);

  // The bytes of a file from `from` (an offset at which this failure mode's part starts) to its
  // end, line by line; line numbers count from the file's start. A JSON line naming `request` or
  // `request_id` and `at_ms` gives its finding that request and plan time. A missing file is
  // scanned as empty; false with `error` set when it cannot be read.
  bool scan_file(const std::string& artifact, const std::filesystem::path& path, std::uint64_t from,
                 std::string& error);
  // One line or record of an artifact kept in memory (`line` numbers it), for a request at a plan time.
  void scan_record(const std::string& artifact, std::string_view text, std::uint64_t line,
                   std::uint64_t request = 0, double at_ms = 0);
  // A JSON line of an artifact kept in memory, its request and plan time read as scan_file does.
  void scan_line(const std::string& artifact, std::string_view text, std::uint64_t line, std::uint64_t offset = 0);

  const std::vector<secret_form>& forms() const noexcept { return forms_; }
  const std::vector<scanned_artifact>& artifacts() const noexcept { return artifacts_; }
  std::uint64_t occurrences() const noexcept { return occurrences_; }
  // The first max_findings, in the order they were found.
  const std::vector<secret_finding>& findings() const noexcept { return findings_; }

  // "decision log run.log: 1234 bytes in 20 lines; ...; 9 forms searched: secret env:K (raw,
  // base64, ...), ...". Never a value.
  std::string summary() const;
  // The findings as report evidence: which form, in which artifact, where. Never the value.
  std::vector<evidence_item> evidence() const;

 private:
  scanned_artifact& artifact(const std::string& name);
  void search(const std::string& artifact, std::string_view text, std::uint64_t line, std::uint64_t offset,
              std::uint64_t request, double at_ms);

  std::vector<secret_form> forms_;
  std::vector<scanned_artifact> artifacts_;
  std::uint64_t occurrences_ = 0;
  std::vector<secret_finding> findings_;
};

}  // namespace planproof::scenario
