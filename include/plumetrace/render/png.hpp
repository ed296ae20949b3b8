#pragma once
/// @file png.hpp
/// RGBA PNG encoding and decoding with libpng directly (GDAL's PNG driver costs a dataset per
/// tile). Tuned for map tiles: fast zlib, one fixed row filter.

#include <cstdint>
#include <string>
#include <vector>

namespace plumetrace {

/// zlib level for tiles: on a colormapped posterior tile level 3 encodes in 0.87 ms (level 6: 2.1 ms,
/// level 1: 0.79 ms) into 13 KB (level 6: 8 KB, level 1: 26 KB): nearly level 1's speed at half its
/// bytes (bench/tiles_bench.cpp BM_EncodePng, bench/RESULTS.md).
inline constexpr int kTilePngZlibLevel = 3;

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
