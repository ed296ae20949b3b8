#pragma once
/// @file tile_cache.hpp
/// Encoded map tiles kept in memory, least recently used dropped first, within a byte budget
/// (`plumetrace serve --tile-cache-mb`). The key names everything a tile's bytes depend on (case,
/// layer, z/x/y, colormap, rescale, band); the value keeps the PNG with its strong ETag and
/// Cache-Control, so that a hit is answered, 304 included, without rendering or touching the store.
///
/// Staleness: a layer whose file can change (an imagery upload) or vanish (a dismissed job) is
/// dropped with erase_prefix(case); every erase bumps a generation, and put() of a tile rendered
/// before it (its lookup's generation()) is ignored, so a render racing an upload never lands.
/// Thread safety: every member may be called from many threads at once.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace plumetrace::server {

/// One cached tile.
struct CachedTile {
  std::string png;            ///< the encoded tile
  std::string etag;           ///< strong ETag, quoted
  std::string cache_control;  ///< the Cache-Control header it is served with
};

class TileCache {
 public:
  /// A cache of at most `max_bytes` (keys, PNGs, ETags and a fixed overhead per entry counted);
  /// 0 disables it (get() always misses, put() keeps nothing).
  explicit TileCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// The tile under `key`, made most recently used; nullptr on a miss.
  [[nodiscard]] std::shared_ptr<const CachedTile> get(const std::string& key);

  /// Keep `tile` under `key` unless an erase happened since `generation` was read (then the tile
  /// may be stale and is dropped); evicts least recently used tiles to stay within the budget. A
  /// tile larger than the whole budget is not kept.
  void put(const std::string& key, std::shared_ptr<const CachedTile> tile, std::uint64_t generation);

  /// Drop every tile whose key starts with `prefix` (and bump the generation).
  void erase_prefix(const std::string& prefix);

  /// The current generation (read it before rendering, pass it to put()).
  [[nodiscard]] std::uint64_t generation() const;

  [[nodiscard]] std::size_t bytes() const;    ///< bytes accounted now
  [[nodiscard]] std::size_t size() const;     ///< tiles kept now
  [[nodiscard]] std::size_t max_bytes() const noexcept { return max_bytes_; }
  [[nodiscard]] bool enabled() const noexcept { return max_bytes_ > 0; }

  /// Bytes accounted for one entry: key, PNG, ETag, Cache-Control and a fixed overhead.
  [[nodiscard]] static std::size_t cost(const std::string& key, const CachedTile& tile) noexcept;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const CachedTile>>;
  void evict_locked();

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  ///< most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::size_t bytes_{0};
  std::uint64_t generation_{0};
};

}  // namespace plumetrace::server
