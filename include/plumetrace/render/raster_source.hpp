#pragma once
/// @file raster_source.hpp
/// Opening a raster that a user (or a client, through a server-made name) pointed at, safely
/// (docs/tiles.md "Limits and safety"): explicit driver allow-list, no /vsi* and no VRT, size limits checked
/// right after open, before any pixel is read.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace plumetrace {

/// Default bound on width x height x bands (samples): 2^32, e.g. a 65536 x 65536 single band.
/// Larger rasters are refused before any pixel is read (a decompression-bomb guard); tiles read
/// windows, so the bound is about headers and overviews, not memory.
inline constexpr std::int64_t kDefaultMaxRasterSamples = std::int64_t{1} << 32;

/// Limits applied by open_raster_checked.
struct RasterLimits {
  std::int64_t max_samples = kDefaultMaxRasterSamples;  ///< width * height * bands
};

/// What identifies a raster file's content for caches and ETags: its absolute path, size, inode
/// and modification time (ns). Two identities compare equal only for the same unchanged file.
struct RasterIdentity {
  std::string path;
  std::uintmax_t size_bytes{};
  std::uintmax_t inode{};
  std::int64_t mtime_ns{};
  friend bool operator==(const RasterIdentity&, const RasterIdentity&) = default;
};

/// The identity of `file` now. @throws InvalidInput (file: reason) when it cannot be stat'ed.
[[nodiscard]] RasterIdentity raster_identity(const std::filesystem::path& file);

/// GDAL drivers a raster may be opened with: GTiff (COGs included), PNG, JPEG, netCDF, HFA, JP2OpenJPEG.
[[nodiscard]] const std::vector<std::string>& allowed_raster_drivers();

/// Closes a GDAL dataset handle (GDALDatasetH) with GDALClose.
struct GdalDatasetCloser {
  void operator()(void* dataset) const noexcept;
};
/// An owned GDAL dataset handle (a GDALDatasetH); not thread-safe: one per thread at a time.
using GdalDatasetPtr = std::unique_ptr<void, GdalDatasetCloser>;

/// Refuse a raster name before anything touches GDAL: empty, a /vsi* path anywhere in it, a
/// driver-prefixed name ("NETCDF:...", "GTIFF_DIR:..."), a .vrt file, a missing file or one that is
/// not a regular file. Returns the absolute path to open.
/// @throws InvalidInput "FILE: reason".
[[nodiscard]] std::filesystem::path checked_raster_path(const std::filesystem::path& file);

/// Open `file` read-only as a raster with allowed_raster_drivers() only, then check it has at
/// least one band and width * height * bands <= limits.max_samples.
/// @throws InvalidInput "FILE: reason" for every refusal.
[[nodiscard]] GdalDatasetPtr open_raster_checked(const std::filesystem::path& file,
                                                 const RasterLimits& limits = {});

}  // namespace plumetrace
