#pragma once
/// @file png.hpp
/// RGBA PNG encoding and decoding with libpng directly (GDAL's PNG driver costs a dataset per
/// tile). Tuned for map tiles: fast zlib, one fixed row filter.

#include <cstdint>
#include <string>
#include <vector>

namespace plumetrace {

/// zlib level for tiles: 1 is ~3x faster than the default 6 and colormapped fields compress within
/// ~15 % of it (bench/RESULTS.md, tiles section).
inline constexpr int kTilePngZlibLevel = 1;

/// Encode `rgba` (width * height * 4 bytes, rows top to bottom, RGBA, not premultiplied) as an
/// 8-bit RGBA PNG with zlib level `zlib_level` (0..9) and the Sub row filter.
/// @pre rgba.size() == width * height * 4, width > 0, height > 0, 0 <= zlib_level <= 9.
/// @throws Internal when libpng fails (out of memory).
[[nodiscard]] std::string encode_png_rgba(const std::vector<std::uint8_t>& rgba, int width, int height,
                                          int zlib_level = kTilePngZlibLevel);

/// A decoded image: width * height * 4 bytes, RGBA, rows top to bottom.
struct RgbaImage {
  int width{}, height{};
  std::vector<std::uint8_t> rgba;
};

/// Decode any PNG (palette, grey, RGB, 16-bit are expanded) to 8-bit RGBA.
/// @throws InvalidInput when `png` is not a readable PNG.
[[nodiscard]] RgbaImage decode_png_rgba(const std::string& png);

}  // namespace plumetrace
