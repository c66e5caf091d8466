#include "scenario/pull_walk.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "mocks/pagination.hpp"

namespace planproof::scenario {

namespace json = boost::json;

namespace {

const json::value* field_at(const json::value& v, std::string_view path) {
  const json::value* at = &v;
  while (at != nullptr) {
    const auto dot = path.find('.');
    const auto* obj = at->if_object();
    if (obj == nullptr) return nullptr;
    at = obj->if_contains(path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path = path.substr(dot + 1);
  }
  return at;
}

std::string id_text(const json::value& record) {
  if (const auto* obj = record.if_object()) {
    if (const auto key = mocks::record_id_field(*obj); !key.empty()) {
      const auto& v = obj->at(key);
      return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
    }
  }
  // A record with no id is known by its whole text.
  return json::serialize(record);
}

std::string plural(std::uint64_t n, std::string_view what) {
  return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

}  // namespace

std::optional<page_records> read_page(std::string_view body, const plan::pagination_config& pagination) {
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  if (ec) return std::nullopt;
  const json::value* items = nullptr;
  if (v.is_array() && pagination.items.empty()) {
    items = &v;
  } else {
    items = field_at(v, pagination.items.empty() ? std::string_view("data") : std::string_view(pagination.items));
  }
  if (items == nullptr || !items->is_array()) return std::nullopt;
  page_records page;
  page.ids.reserve(items->get_array().size());
  for (const auto& r : items->get_array()) page.ids.push_back(id_text(r));
  if (!pagination.has_more.empty()) {
    const auto* more = field_at(v, pagination.has_more);
    page.has_more = more != nullptr && more->is_bool() && more->get_bool();
  } else if (!pagination.next_cursor.empty()) {
    const auto* next = field_at(v, pagination.next_cursor);
    page.has_more = next != nullptr && next->is_string() && !next->get_string().empty();
  }
  return page;
}

pull_walk::pull_walk(settings s, std::function<std::string(std::size_t)> id_of, pull_tally& tally)
    : s_(s), id_of_(std::move(id_of)), tally_(tally) {
  s_.page_size = std::max<std::size_t>(1, s_.page_size);
  s_.max_fetches = std::max<std::uint32_t>(1, s_.max_fetches);
}

std::size_t pull_walk::page_count() const noexcept {
  return std::max<std::size_t>(1, (s_.records + s_.page_size - 1) / s_.page_size);
}

void pull_walk::note(std::size_t page, std::string what) {
  if (tally_.evidence.size() >= run_stats::max_evidence || page >= pages_.size()) return;
  const auto& p = pages_[page];
  tally_.evidence.push_back({p.request, p.at_ms, "page " + std::to_string(page + 1) + " (" + p.target + "): " + what});
}

void pull_walk::begin_pull() {
  page_ = 0;
  fetches_ = 0;
  asked_ = 0;
  processed_.clear();
  pages_.clear();
}

void pull_walk::end_pull() {
  if (asked_ == 0) return;
  ++tally_.pulls;
  const std::size_t expected = std::min(s_.records, asked_ * s_.page_size);
  tally_.records_expected += expected;
  std::vector<std::uint64_t> missed_in(asked_, 0);
  for (std::size_t i = 0; i < expected; ++i) {
    const auto it = processed_.find(id_of_(i));
    const auto n = it == processed_.end() ? 0 : it->second.times;
    if (n == 0) {
      ++tally_.missed;
      ++missed_in[i / s_.page_size];
    } else if (n == 1) {
      ++tally_.processed_once;
    } else {
      ++tally_.processed_twice;
    }
  }
  for (std::size_t p = 0; p < asked_; ++p) {
    if (missed_in[p] != 0) {
      note(p, plural(missed_in[p], "record") + " of this page never processed in the pull" +
                  (pages_[p].read ? std::string() : " (its request did not succeed)"));
    }
    if (pages_[p].repeated != 0 && !s_.refetch) {
      note(p, "its answer held " + plural(pages_[p].repeated, "record") +
                  " of other pages already processed in the pull, processed again");
    }
  }
}

void pull_walk::on_answer(const std::optional<page_records>& read, bool restarted, std::uint64_t request,
                          double at_ms, std::string_view target) {
  if (restarted && page_ != 0) {
    // The client read the first page instead: the pull so far ends before this page, a new one begins.
    end_pull();
    begin_pull();
  }
  asked_ = std::max(asked_, page_ + 1);
  if (pages_.size() <= page_) pages_.resize(page_ + 1);
  pages_[page_] = {request, at_ms, std::string(target), read.has_value(), 0};
  bool has_more = true;
  if (read) {
    ++tally_.pages_read;
    std::uint64_t elsewhere = 0;  // records first read on another page of this pull
    for (const auto& id : read->ids) {
      auto& r = processed_[id];
      if (r.times > 0) {
        if (r.page != page_) ++elsewhere;
        if (s_.refetch) {
          ++tally_.duplicates_dropped;
          continue;
        }
      } else {
        r.page = static_cast<std::uint32_t>(page_);
      }
      ++r.times;
    }
    pages_[page_].repeated = elsewhere;
    has_more = read->has_more;
    const bool short_page = read->ids.size() < s_.page_size && read->has_more;
    if (s_.refetch && (short_page || elsewhere > 0) && fetches_ + 2 <= s_.max_fetches) {
      ++fetches_;
      ++tally_.refetches;
      return;
    }
  }
  fetches_ = 0;
  ++page_;
  if (!has_more || page_ >= page_count()) {
    end_pull();
    begin_pull();
  }
}

void pull_walk::finish() {
  end_pull();
  begin_pull();
}

}  // namespace planproof::scenario
