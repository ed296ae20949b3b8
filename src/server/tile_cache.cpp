#include "plumetrace/server/tile_cache.hpp"

namespace plumetrace::server {

std::size_t TileCache::cost(const std::string& key, const CachedTile& tile) noexcept {
  constexpr std::size_t kOverhead = 160;  // list node, hash node, shared_ptr control block
  return key.size() * 2 + tile.png.size() + tile.etag.size() + tile.cache_control.size() + kOverhead;
}

std::shared_ptr<const CachedTile> TileCache::get(const std::string& key) {
  if (max_bytes_ == 0) return nullptr;
  std::lock_guard lock(mu_);
  const auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void TileCache::put(const std::string& key, std::shared_ptr<const CachedTile> tile, std::uint64_t generation) {
  if (max_bytes_ == 0 || !tile) return;
  const std::size_t c = cost(key, *tile);
  if (c > max_bytes_) return;
  std::lock_guard lock(mu_);
  if (generation != generation_) return;
  if (const auto it = index_.find(key); it != index_.end()) {
    bytes_ -= cost(key, *it->second->second);
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(key, std::move(tile));
  index_.emplace(key, lru_.begin());
  bytes_ += c;
  evict_locked();
}

void TileCache::evict_locked() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    const Entry& last = lru_.back();
    bytes_ -= cost(last.first, *last.second);
    index_.erase(last.first);
    lru_.pop_back();
  }
}

void TileCache::erase_prefix(const std::string& prefix) {
  std::lock_guard lock(mu_);
  ++generation_;
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      bytes_ -= cost(it->first, *it->second);
      index_.erase(it->first);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

std::uint64_t TileCache::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

std::size_t TileCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::size_t TileCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace plumetrace::server
