#include "scenario/secret_scan.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <span>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/encoding.hpp"
#include "core/hmac.hpp"
#include "scenario/auth_material.hpp"

namespace planproof::scenario {
namespace {

void add_form(std::vector<secret_form>& out, const std::string& credential, const std::string& group,
              std::string encoding, std::string value) {
  if (value.empty()) return;
  if (std::any_of(out.begin(), out.end(), [&](const auto& f) { return f.value == value; })) return;
  out.push_back({credential, group.empty() ? credential : group, std::move(encoding), std::move(value)});
}

// What a JSON line names of the request it is about and when: `request` (the decision log) or
// `request_id` (a dead letter), and `at_ms`. Zero for what it does not name or a line that is not JSON.
// A logfmt line (`run --verbose`) names them as ` request=12` and ` at_ms=340`.
void request_and_time(std::string_view line, std::uint64_t& request, double& at_ms) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(line, ec);
  const auto* object = ec ? nullptr : value.if_object();
  if (object == nullptr) {
    auto field = [&](std::string_view key) -> std::uint64_t {
      const auto at = line.find(key);
      if (at == std::string_view::npos || (at != 0 && line[at - 1] != ' ')) return 0;
      std::uint64_t n = 0;
      const auto* first = line.data() + at + key.size();
      std::from_chars(first, line.data() + line.size(), n);
      return n;
    };
    request = field("request=");
    at_ms = static_cast<double>(field("at_ms="));
    return;
  }
  for (const char* key : {"request", "request_id"}) {
    if (const auto* r = object->if_contains(key); r != nullptr) {
      if (r->is_uint64()) request = r->as_uint64();
      else if (r->is_int64() && r->as_int64() > 0) request = static_cast<std::uint64_t>(r->as_int64());
      if (request != 0) break;
    }
  }
  if (const auto* t = object->if_contains("at_ms"); t != nullptr && t->is_number()) at_ms = t->to_number<double>();
}

}  // namespace

std::string secret_form::name() const { return encoding == "raw" ? credential : credential + " as " + encoding; }

void add_secret_forms(std::vector<secret_form>& out, const std::string& credential, std::string_view value,
                      const std::string& group) {
  if (value.empty()) return;
  add_form(out, credential, group, "raw", std::string(value));
  add_form(out, credential, group, "form-encoded", core::form_encode(value));
  const auto quoted = boost::json::serialize(boost::json::string(value));
  add_form(out, credential, group, "JSON-escaped", quoted.substr(1, quoted.size() - 2));
  add_form(out, credential, group, "base64", core::base64_encode(value));
  add_form(out, credential, group, "base64url", core::base64url_encode(value));
  const auto hex = core::to_hex(std::span(reinterpret_cast<const unsigned char*>(value.data()), value.size()));
  auto upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c; });
  add_form(out, credential, group, "hex", hex);
  add_form(out, credential, group, "HEX", std::move(upper));
}

std::vector<secret_form> secret_forms(const auth_material& auth) {
  std::vector<secret_form> out;
  for (const auto& [name, value] : auth.resolved) add_secret_forms(out, name, value);
  if (!auth.client_secret.empty()) {
    // The token request's credentials (RFC 6749 section 2.3.1): both halves form-encoded, then
    // base64; and the same without the form-encoding, as a client that skips it would send them.
    const std::string credentials = "OAuth2 client credentials";
    add_form(out, credentials, {}, "HTTP Basic",
             core::base64_encode(core::form_encode(auth.client_id) + ":" + core::form_encode(auth.client_secret)));
    add_form(out, credentials, {}, "HTTP Basic without form-encoding",
             core::base64_encode(auth.client_id + ":" + auth.client_secret));
  }
  return out;
}

secret_scan::secret_scan(std::vector<secret_form> forms) : forms_(std::move(forms)) {}

void secret_scan::add_forms(const std::string& credential, std::string_view value, const std::string& group) {
  add_secret_forms(forms_, credential, value, group);
}

scanned_artifact& secret_scan::artifact(const std::string& name) {
  auto it = std::find_if(artifacts_.begin(), artifacts_.end(), [&](const auto& a) { return a.name == name; });
  if (it != artifacts_.end()) return *it;
  artifacts_.push_back({name});
  return artifacts_.back();
}

void secret_scan::search(const std::string& artifact, std::string_view text, std::uint64_t line,
                         std::uint64_t offset, std::uint64_t request, double at_ms) {
  struct match {
    std::size_t pos, size;
    const secret_form* form;
  };
  std::vector<match> matches;
  for (const auto& form : forms_) {
    for (auto pos = text.find(form.value); pos != std::string_view::npos; pos = text.find(form.value, pos + 1)) {
      matches.push_back({pos, form.value.size(), &form});
    }
  }
  if (matches.empty()) return;
  // One occurrence is counted once: a form found inside another one's match (base64url inside
  // the base64 it is a prefix of, a secret inside its own JSON-escaped form) is the same leak.
  std::sort(matches.begin(), matches.end(),
            [](const match& a, const match& b) { return a.pos != b.pos ? a.pos < b.pos : a.size > b.size; });
  if (request == 0 && at_ms == 0) request_and_time(text, request, at_ms);
  std::size_t covered_to = 0;
  for (const auto& m : matches) {
    if (m.pos + m.size <= covered_to) continue;
    covered_to = std::max(covered_to, m.pos + m.size);
    ++occurrences_;
    if (findings_.size() < max_findings) {
      findings_.push_back({artifact, m.form->name(), line, offset + m.pos, request, at_ms});
    }
  }
}

bool secret_scan::scan_file(const std::string& name, const std::filesystem::path& path, std::uint64_t from,
                            std::string& error) {
  auto& a = artifact(name);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return true;  // nothing written
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path.string();
    return false;
  }
  // Line numbers count from the start of the file, where earlier failure modes' lines are.
  std::uint64_t line_no = 1;
  std::uint64_t offset = 0;
  char buf[64 * 1024];
  while (offset < from && in) {
    in.read(buf, static_cast<std::streamsize>(std::min<std::uint64_t>(sizeof buf, from - offset)));
    const auto n = static_cast<std::size_t>(in.gcount());
    line_no += static_cast<std::uint64_t>(std::count(buf, buf + n, '\n'));
    offset += n;
    if (n == 0) break;
  }
  std::string line;
  while (std::getline(in, line)) {
    const bool ended = !in.eof();
    a.bytes += line.size() + (ended ? 1 : 0);
    ++a.lines;
    search(name, line, line_no, offset, 0, 0);
    offset += line.size() + 1;
    ++line_no;
  }
  if (in.bad()) {
    error = "cannot read " + path.string();
    return false;
  }
  return true;
}

void secret_scan::scan_record(const std::string& name, std::string_view text, std::uint64_t line,
                              std::uint64_t request, double at_ms) {
  auto& a = artifact(name);
  a.bytes += text.size();
  ++a.lines;
  search(name, text, line, 0, request, at_ms);
}

void secret_scan::scan_line(const std::string& name, std::string_view text, std::uint64_t line, std::uint64_t offset) {
  auto& a = artifact(name);
  a.bytes += text.size();
  ++a.lines;
  search(name, text, line, offset, 0, 0);
}

std::string secret_scan::summary() const {
  std::string out;
  for (const auto& a : artifacts_) {
    out += (out.empty() ? "" : "; ") + a.name + ": " + std::to_string(a.bytes) + " bytes in " +
           std::to_string(a.lines) + (a.lines == 1 ? " line" : " lines");
  }
  if (artifacts_.empty()) out = "nothing written";
  out += "; " + std::to_string(forms_.size()) + (forms_.size() == 1 ? " form" : " forms") + " searched";
  // Grouped: each group with how many credentials it holds and the encodings searched.
  struct group {
    std::string name;
    std::vector<std::string> credentials;
    std::vector<std::string> encodings;
  };
  std::vector<group> groups;
  for (const auto& f : forms_) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.name == f.group; });
    if (it == groups.end()) it = groups.insert(groups.end(), group{f.group, {}, {}});
    for (auto* list : {&it->credentials, &it->encodings}) {
      const auto& value = list == &it->credentials ? f.credential : f.encoding;
      if (std::find(list->begin(), list->end(), value) == list->end()) list->push_back(value);
    }
  }
  std::string names;
  for (const auto& g : groups) {
    std::string encodings;
    for (const auto& e : g.encodings) encodings += (encodings.empty() ? "" : ", ") + e;
    const bool counted = g.credentials.size() > 1 || g.credentials.front() != g.name;
    names += (names.empty() ? "" : "; ") + g.name + (counted ? ": " + std::to_string(g.credentials.size()) : "") +
             " (" + encodings + ")";
  }
  if (!names.empty()) out += ": " + names;
  return out;
}

std::vector<evidence_item> secret_scan::evidence() const {
  std::vector<evidence_item> out;
  for (const auto& f : findings_) {
    out.push_back({f.request, f.at_ms,
                   f.form + " in " + f.artifact + " line " + std::to_string(f.line) + ", byte " +
                       std::to_string(f.offset)});
  }
  return out;
}

}  // namespace planproof::scenario
