#include "mocks/pagination.hpp"
#include "plan/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <boost/json/serialize.hpp>

namespace planproof::mocks {

namespace json = boost::json;

namespace {

// Cursors: 64 bits shown as 16 hex digits, offset (24 bits), size (24 bits) and a 16-bit
// checksum, scrambled so that they do not read as counters.
constexpr std::uint64_t scramble = 0x9e3779b97f4a7c15ull;
constexpr std::size_t field_max = (std::size_t{1} << 24) - 1;

std::uint16_t checksum(std::size_t offset, std::size_t size, std::string_view salt) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](unsigned char c) { h = (h ^ c) * 1099511628211ull; };
  for (unsigned char c : salt) mix(c);
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(offset >> (8 * i)));
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(size >> (8 * i)));
  return static_cast<std::uint16_t>(h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A whole number in [min, max], digits only.
std::optional<std::size_t> whole_number(std::string_view s, std::size_t min, std::size_t max) {
  if (s.empty() || s.size() > 12) return std::nullopt;
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_path(std::string_view field) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto dot = field.find('.');
    parts.push_back(field.substr(0, dot));
    if (dot == std::string_view::npos) break;
    field = field.substr(dot + 1);
  }
  return parts;
}

const json::value* find_field(const json::value& v, std::string_view field) {
  const json::value* at = &v;
  for (auto part : split_path(field)) {
    const auto* obj = at->if_object();
    if (obj == nullptr) return nullptr;
    at = obj->if_contains(part);
    if (at == nullptr) return nullptr;
  }
  return at;
}

// Sets a dotted field, making the objects on the way (replacing anything else in the way).
void set_field(json::value& v, std::string_view field, json::value x) {
  json::value* at = &v;
  for (auto part : split_path(field)) {
    if (!at->is_object()) *at = json::object();
    at = &at->get_object()[part];
  }
  *at = std::move(x);
}

void erase_field(json::value& v, std::string_view field) {
  const auto parts = split_path(field);
  json::value* at = &v;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto* obj = at->if_object();
    if (obj == nullptr) return;
    at = obj->if_contains(parts[i]);
    if (at == nullptr) return;
  }
  if (auto* obj = at->if_object()) obj->erase(parts.back());
}

std::string padded(std::size_t index) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%06zu", index);
  return buf;
}

}  // namespace

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}


std::string record_id_field(const json::object& record) {
  for (const char* key : {"id", "Id", "ID"}) {
    const auto* v = record.if_contains(key);
    if (v != nullptr && (v->is_string() || v->is_int64() || v->is_uint64())) return key;
  }
  for (const auto& [key, v] : record) {
    if (key.ends_with("_id") && v.is_string()) return std::string(key);
  }
  return {};
}

std::string page_error::body() const {
  return json::serialize(json::object{{"error", code}, {"message", message}});
}

paged_collection::paged_collection(const plan::endpoint& e, std::string next_link)
    : config_(*e.pagination), path_(e.path), next_link_(std::move(next_link)) {
  cursor_in_path_ = config_.style == plan::pagination_style::cursor && !config_.param.empty() &&
                    std::find(e.path_params.begin(), e.path_params.end(), config_.param) != e.path_params.end();
  if (config_.max_page_size) {
    max_size_ = std::min<std::size_t>(static_cast<std::size_t>(*config_.max_page_size), field_max);
    page_size_ = max_size_;
  }
  records_ = config_.collection ? static_cast<std::size_t>(*config_.collection) : 3 * page_size_;
  records_ = std::min(records_, max_records);

  // The records: the example's, used in turn. A body that is itself an array is the page.
  const std::string items = config_.items.empty() ? "data" : config_.items;
  const json::value example = e.response_example.value_or(json::object());
  const json::value* found = nullptr;
  if (example.is_array() && config_.items.empty()) {
    bare_array_ = true;
    found = &example;
  } else {
    envelope_ = example.is_object() ? example : json::value(json::object());
    found = find_field(envelope_, items);
  }
  if (found != nullptr && found->is_array()) {
    for (const auto& r : found->get_array()) templates_.push_back(r);
  }
  if (templates_.empty()) templates_.push_back(json::object{{"id", "rec_000000"}});

  if (const auto* first = templates_.front().if_object()) {
    id_key_ = record_id_field(*first);
    if (const auto* v = id_key_.empty() ? nullptr : first->if_contains(id_key_); v != nullptr && !v->is_string()) {
      id_is_number_ = true;
      id_base_ = v->is_int64() ? v->get_int64() : static_cast<std::int64_t>(v->get_uint64() & 0x7fffffffffffffffull);
    }
  }
  if (id_key_.empty()) {
    id_key_ = "index";
    id_is_number_ = true;
  }
  if (!bare_array_) erase_field(envelope_, items);
}

std::size_t paged_collection::page_count() const noexcept {
  return std::max<std::size_t>(1, (records_ + page_size_ - 1) / page_size_);
}

json::value paged_collection::record(std::size_t index) const {
  json::value r = templates_[index % templates_.size()];
  if (!r.is_object()) r = json::object{{"value", r}};
  auto& obj = r.get_object();
  if (id_is_number_) {
    obj[id_key_] = id_base_ + static_cast<std::int64_t>(index);
  } else {
    // The example's id with its tail replaced by the index: same length and alphabet (the
    // schema's pattern still holds), distinct for every record.
    const auto* own = obj.if_contains(id_key_);
    std::string id = own != nullptr && own->is_string() ? std::string(own->get_string()) : std::string("rec_000000");
    const std::string tail = padded(index);
    if (id.size() > tail.size()) {
      id.replace(id.size() - tail.size(), tail.size(), tail);
    } else {
      id += "_" + tail;
    }
    obj[id_key_] = id;
  }
  return r;
}

std::string paged_collection::record_id(std::size_t index) const {
  const auto r = record(index);
  const auto& v = r.get_object().at(id_key_);
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

std::string paged_collection::cursor(std::size_t offset, std::size_t size) const {
  offset = std::min(offset, field_max);
  size = std::min(size, field_max);
  const std::uint64_t raw = (static_cast<std::uint64_t>(offset) << 40) | (static_cast<std::uint64_t>(size) << 16) |
                            checksum(offset, size, config_.param);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(raw ^ scramble));
  // `<id>-<position>`, the shape real locators have (Salesforce's 01gRM00000Abc12YAB-2000), so a
  // schema pattern written from the provider's documentation accepts the mock's cursors too.
  return std::string(buf) + "-" + std::to_string(offset);
}

std::optional<std::pair<std::size_t, std::size_t>> paged_collection::decode(std::string_view token) const {
  const auto dash = token.find('-');
  if (dash != 16) return std::nullopt;
  const auto position = token.substr(17);
  token = token.substr(0, 16);
  std::uint64_t v = 0;
  for (char c : token) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  v ^= scramble;
  const auto offset = static_cast<std::size_t>(v >> 40);
  const auto size = static_cast<std::size_t>((v >> 16) & field_max);
  if (size == 0 || offset > records_ || (v & 0xffff) != checksum(offset, size, config_.param)) return std::nullopt;
  if (position != std::to_string(offset)) return std::nullopt;
  return std::pair{offset, size};
}

std::variant<page_position, page_error> paged_collection::locate(std::string_view target) const {
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  page_position at;
  at.size = page_size_;
  std::optional<std::size_t> asked_size;
  if (!config_.limit_param.empty()) {
    if (auto limit = query_param(query, config_.limit_param)) {
      asked_size = whole_number(*limit, 1, 1'000'000'000);
      if (!asked_size) {
        return page_error{"invalid_limit", config_.limit_param + " must be a whole number >= 1, got '" + *limit + "'"};
      }
      // As most APIs do, a page larger than allowed is served at the largest size allowed.
      asked_size = std::min(*asked_size, max_size_);
      at.size = *asked_size;
    }
  }
  using plan::pagination_style;
  switch (config_.style) {
    case pagination_style::cursor:
    case pagination_style::link_header: {
      std::optional<std::string> token;
      if (cursor_in_path_) {
        std::vector<std::pair<std::string, std::string>> captures;
        if (match_path(path_, path, &captures)) {
          for (auto& [name, value] : captures) {
            if (name == config_.param) token = percent_decode(value);
          }
        }
      } else {
        token = query_param(query, config_.style == pagination_style::cursor ? std::string_view(config_.param)
                                                                               : link_param);
      }
      if (!token) return at;
      const auto decoded = decode(*token);
      if (!decoded) {
        return page_error{"invalid_cursor", "the cursor '" + token->substr(0, 64) +
                                                "' was not issued by this API or has expired"};
      }
      at.offset = decoded->first;
      at.size = asked_size.value_or(std::min(decoded->second, max_size_));
      at.continuation = true;
      return at;
    }
    case pagination_style::page: {
      const auto value = query_param(query, config_.param);
      if (!value) return at;
      const auto page = whole_number(*value, 1, 1'000'000'000);
      if (!page) return page_error{"invalid_page", config_.param + " must be a whole number >= 1, got '" + *value + "'"};
      at.offset = std::min((*page - 1) * at.size, records_);
      at.continuation = *page > 1;
      return at;
    }
    case pagination_style::offset: {
      const auto value = query_param(query, config_.param);
      if (!value) return at;
      const auto offset = whole_number(*value, 0, 1'000'000'000);
      if (!offset) return page_error{"invalid_offset", config_.param + " must be a whole number >= 0, got '" + *value + "'"};
      at.offset = std::min(*offset, records_);
      at.continuation = *offset > 0;
      return at;
    }
  }
  return at;
}

std::string paged_collection::next_value(std::size_t offset, std::size_t size) const {
  const std::string token = cursor(offset, size);
  if (next_link_.empty()) return token;
  std::string link = next_link_;
  const std::string hole = "{" + config_.param + "}";
  if (const auto at = link.find(hole); at != std::string::npos) link.replace(at, hole.size(), token);
  return link;
}

page_answer paged_collection::serve(const page_position& at, std::optional<plan::page_breakage> breakage) const {
  const std::size_t n = records_;
  const std::size_t o = std::min(at.offset, n);
  const std::size_t s = std::max<std::size_t>(1, at.size);
  page_answer a;
  a.first = o;
  a.count = std::min(s, n - o);
  if (o + a.count < n) a.next = o + a.count;
  using plan::page_breakage;
  if (breakage == page_breakage::short_page && a.count > 0) {
    a.count /= 2;
    a.next = o + a.count;
  } else if (breakage == page_breakage::repeated_page && o > 0) {
    a.first = o >= s ? o - s : 0;
    a.count = o - a.first;
    a.next = o;
  } else if (breakage == page_breakage::shifted_page && o > 0) {
    a.first = o - 1;
    a.count = std::min(s, n - a.first);
    a.next = a.first + a.count < n ? std::optional(a.first + a.count) : std::nullopt;
  }

  json::array page;
  page.reserve(a.count);
  for (std::size_t i = a.first; i < a.first + a.count; ++i) page.push_back(record(i));
  if (bare_array_) {
    a.body = plan::json_text(page);
  } else {
    json::value body = envelope_;
    set_field(body, config_.items.empty() ? "data" : config_.items, std::move(page));
    if (!config_.has_more.empty()) set_field(body, config_.has_more, a.next.has_value());
    if (!config_.next_cursor.empty()) {
      // The last page has no next cursor at all, as Salesforce's nextRecordsUrl.
      if (a.next) {
        set_field(body, config_.next_cursor, json::string(next_value(*a.next, s)));
      } else {
        erase_field(body, config_.next_cursor);
      }
    }
    a.body = plan::json_text(body);
  }
  if (config_.style == plan::pagination_style::link_header && a.next) {
    const std::string_view base = std::string_view(path_);
    a.link = "<" + std::string(base) + (base.find('?') == std::string_view::npos ? "?" : "&") +
             std::string(link_param) + "=" + cursor(*a.next, s) + ">; rel=\"next\"";
  }
  return a;
}

std::string paged_collection::target_for_page(std::size_t index) const {
  const std::size_t offset = std::min(index * page_size_, records_);
  const char join = path_.find('?') == std::string::npos ? '?' : '&';
  using plan::pagination_style;
  switch (config_.style) {
    case pagination_style::cursor:
      if (cursor_in_path_) {
        std::string target = path_;
        const std::string hole = "{" + config_.param + "}";
        if (const auto at = target.find(hole); at != std::string::npos) target.replace(at, hole.size(), cursor(offset, page_size_));
        return target;
      }
      if (index == 0) return path_;
      return path_ + join + config_.param + "=" + cursor(offset, page_size_);
    case pagination_style::link_header:
      if (index == 0) return path_;
      return path_ + join + std::string(link_param) + "=" + cursor(offset, page_size_);
    case pagination_style::page:
      if (index == 0) return path_;
      return path_ + join + config_.param + "=" + std::to_string(index + 1);
    case pagination_style::offset:
      if (index == 0) return path_;
      return path_ + join + config_.param + "=" + std::to_string(offset);
  }
  return path_;
}

std::shared_ptr<const paged_collection> make_collection(const plan::integration_plan& p, const plan::endpoint& e) {
  if (!e.pagination || e.direction != plan::endpoint_direction::outbound) return nullptr;
  std::string next_link;
  const auto& param = e.pagination->param;
  if (e.pagination->style == plan::pagination_style::cursor && !param.empty()) {
    auto takes_cursor = [&](const plan::endpoint& x) {
      return x.direction == plan::endpoint_direction::outbound && x.method == e.method &&
             std::find(x.path_params.begin(), x.path_params.end(), param) != x.path_params.end();
    };
    if (takes_cursor(e)) {
      next_link = e.path;
    } else {
      for (const auto& x : p.endpoints) {
        if (takes_cursor(x)) {
          next_link = x.path;
          break;
        }
      }
    }
  }
  return std::make_shared<const paged_collection>(e, std::move(next_link));
}

bool match_path(std::string_view pattern, std::string_view path, std::vector<std::pair<std::string, std::string>>* captures) {
  if (captures != nullptr) captures->clear();
  while (true) {
    const auto ps = pattern.find('/'), qs = path.find('/');
    const auto p = pattern.substr(0, ps), q = path.substr(0, qs);
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      if (q.empty()) return false;
      if (captures != nullptr) captures->emplace_back(std::string(p.substr(1, p.size() - 2)), std::string(q));
    } else if (p != q) {
      return false;
    }
    if ((ps == std::string_view::npos) != (qs == std::string_view::npos)) return false;
    if (ps == std::string_view::npos) return true;
    pattern = pattern.substr(ps + 1);
    path = path.substr(qs + 1);
  }
}

}  // namespace planproof::mocks
