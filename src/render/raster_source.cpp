#include "plumetrace/render/raster_source.hpp"

#include <cpl_error.h>
#include <gdal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "plumetrace/core/error.hpp"
#include "plumetrace/pipeline/init.hpp"

namespace plumetrace {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

[[noreturn]] void refuse(const std::filesystem::path& file, const std::string& reason) {
  throw InvalidInput(file.string() + ": " + reason);
}

}  // namespace

void GdalDatasetCloser::operator()(void* dataset) const noexcept {
  if (dataset != nullptr) GDALClose(static_cast<GDALDatasetH>(dataset));
}

const std::vector<std::string>& allowed_raster_drivers() {
  static const std::vector<std::string> drivers{"GTiff", "PNG", "JPEG", "netCDF", "HFA", "JP2OpenJPEG"};
  return drivers;
}

RasterIdentity raster_identity(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) refuse(file, "cannot read the file's status");
  RasterIdentity id;
  id.path = std::filesystem::absolute(file).lexically_normal().string();
  id.size_bytes = static_cast<std::uintmax_t>(st.st_size);
  id.inode = static_cast<std::uintmax_t>(st.st_ino);
  id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return id;
}

std::filesystem::path checked_raster_path(const std::filesystem::path& file) {
  const std::string name = file.string();
  if (name.empty()) throw InvalidInput("empty raster file name");
  const std::string low = lower(name);
  if (low.find("/vsi") != std::string::npos) refuse(file, "GDAL virtual file systems (/vsi...) are refused");
  // GDAL reads "DRIVER:..." names as driver-specific syntax (NETCDF:file:var, GTIFF_DIR:1:file, ...)
  const auto colon = name.find(':'), slash = name.find('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon < slash))
    refuse(file, "driver-prefixed dataset names are refused");
  if (low.size() >= 4 && low.compare(low.size() - 4, 4, ".vrt") == 0) refuse(file, "VRT files are refused");
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) refuse(file, "no such file");
  if (!std::filesystem::is_regular_file(status)) refuse(file, "not a regular file");
  return std::filesystem::absolute(file).lexically_normal();
}

GdalDatasetPtr open_raster_checked(const std::filesystem::path& file, const RasterLimits& limits) {
  const std::filesystem::path path = checked_raster_path(file);
  pipeline::init();
  std::vector<const char*> drivers;
  for (const auto& d : allowed_raster_drivers()) drivers.push_back(d.c_str());
  drivers.push_back(nullptr);
  GdalDatasetPtr ds(GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY, drivers.data(), nullptr, nullptr));
  if (!ds) {
    std::string allowed;
    for (const auto& d : allowed_raster_drivers()) allowed += (allowed.empty() ? "" : ", ") + d;
    refuse(file, "not a raster readable with the allowed drivers (" + allowed + ")");
  }
  auto* h = static_cast<GDALDatasetH>(ds.get());
  const char* driver = GDALGetDriverShortName(GDALGetDatasetDriver(h));
  if (driver == nullptr || lower(driver) == "vrt") refuse(file, "VRT datasets are refused");
  const std::int64_t width = GDALGetRasterXSize(h), height = GDALGetRasterYSize(h), bands = GDALGetRasterCount(h);
  if (bands <= 0) refuse(file, "has no raster band (a container of subdatasets?)");
  if (width <= 0 || height <= 0) refuse(file, "has an empty raster");
  // divide instead of multiplying: width * height * bands may overflow int64 for hostile headers
  if (width > limits.max_samples / height || width * height > limits.max_samples / bands)
    refuse(file, std::to_string(width) + " x " + std::to_string(height) + " x " + std::to_string(bands) +
                     " samples exceed the limit of " + std::to_string(limits.max_samples));
  return ds;
}

}  // namespace plumetrace
