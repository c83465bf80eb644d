#pragma once
// OrderedDict: a small insertion-ordered map, as torch::OrderedDict. Used for named parameters,
// buffers, submodules and state dicts, where order matters (printing, saving, optimizers) and
// sizes are small (a linear scan beats hashing for tens of entries; an index speeds up big ones).
#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tapeflow/error.hpp"

namespace tapeflow {

template <typename Key, typename Value>
class OrderedDict {
 public:
  class Item {
   public:
    Item(Key key, Value value) : pair_(std::move(key), std::move(value)) {}
    const Key& key() const { return pair_.first; }
    Value& value() { return pair_.second; }
    const Value& value() const { return pair_.second; }
    const std::pair<Key, Value>& pair() const { return pair_; }

   private:
    std::pair<Key, Value> pair_;
  };

  OrderedDict() = default;
  explicit OrderedDict(std::string what) : what_(std::move(what)) {}

  // Inserts a new key; throws ValueError if it is already present.
  Value& insert(Key key, Value value) {
    if (index_.count(key))
      fail<ValueError>(what_.c_str(), "key '", key, "' already present");
    index_.emplace(key, items_.size());
    items_.emplace_back(std::move(key), std::move(value));
    return items_.back().value();
  }
  // Inserts or overwrites.
  Value& insert_or_assign(Key key, Value value) {
    if (auto* v = find(key)) return *v = std::move(value);
    return insert(std::move(key), std::move(value));
  }
  Value* find(const Key& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value();
  }
  const Value* find(const Key& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value();
  }
  bool contains(const Key& key) const { return index_.count(key) != 0; }
  // Throws ValueError naming the key when it is missing.
  Value& operator[](const Key& key) {
    if (auto* v = find(key)) return *v;
    fail<ValueError>(what_.c_str(), "no key '", key, "'");
  }
  const Value& operator[](const Key& key) const {
    if (auto* v = find(key)) return *v;
    fail<ValueError>(what_.c_str(), "no key '", key, "'");
  }
  Item& operator[](std::size_t i) { return items_.at(i); }
  const Item& operator[](std::size_t i) const { return items_.at(i); }
  void erase(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(it->second));
    rebuild_index();
  }

  std::size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }
  bool empty() const { return items_.empty(); }
  void clear() {
    items_.clear();
    index_.clear();
  }
  std::vector<Key> keys() const {
    std::vector<Key> out;
    out.reserve(items_.size());
    for (const auto& it : items_) out.push_back(it.key());
    return out;
  }
  std::vector<Value> values() const {
    std::vector<Value> out;
    out.reserve(items_.size());
    for (const auto& it : items_) out.push_back(it.value());
    return out;
  }
  const std::vector<Item>& items() const { return items_; }

  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  void rebuild_index() {
    index_.clear();
    for (std::size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].key(), i);
  }
  std::string what_ = "OrderedDict";
  std::vector<Item> items_;
  std::unordered_map<Key, std::size_t> index_;
};

}  // namespace tapeflow
