#pragma once
/// @file colormap.hpp
/// Named 256-entry colormaps, named as TiTiler/rio-tiler name them (`colormap_name=viridis`), and
/// the linear rescale of a value to a colormap index (TiTiler's `rescale=lo,hi`).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plumetrace {

/// One RGBA colour, 8 bits per channel, not premultiplied.
using Rgba = std::array<std::uint8_t, 4>;

/// 256 RGBA entries; entry 0 is the colour of `lo`, entry 255 the colour of `hi`.
using ColormapTable = std::array<Rgba, 256>;

/// The colormap named `name` (lower case TiTiler name: viridis, magma, inferno, plasma, cividis,
/// greys, reds, blues, ylorrd, rdylgn, turbo). Tables are matplotlib's, sampled as rio-tiler samples
/// them (scripts/make-colormaps.py). The reference stays valid for the program's life.
/// @throws InvalidInput naming the allowed colormaps when `name` is not one of them.
[[nodiscard]] const ColormapTable& colormap_by_name(std::string_view name);

/// The names colormap_by_name accepts, in a fixed order.
[[nodiscard]] std::vector<std::string> colormap_names();

/// A linear map from data values to colormap indices: `lo` -> 0, `hi` -> 255, rounded to nearest,
/// values outside [lo, hi] clamped (TiTiler's rescale). @pre lo < hi, both finite.
class Rescale {
 public:
  Rescale(double lo, double hi) noexcept;
  /// The colormap index of `value` (0..255). @pre value is not NaN.
  [[nodiscard]] std::uint8_t index(float value) const noexcept {
    const float t = (value - lo_f_) * scale_f_ + 0.5f;
    if (!(t > 0.0f)) return 0;
    if (t >= 255.0f) return 255;
    return static_cast<std::uint8_t>(t);
  }
  [[nodiscard]] double lo() const noexcept { return lo_; }
  [[nodiscard]] double hi() const noexcept { return hi_; }

 private:
  double lo_, hi_;
  float lo_f_, scale_f_;  ///< the per-pixel map in single precision (tile data are Float32)
};

/// Parse a TiTiler `rescale` value "LO,HI" (two finite numbers, LO < HI).
/// @throws InvalidInput with the reason when it is not.
[[nodiscard]] Rescale parse_rescale(std::string_view text);

}  // namespace plumetrace
