#include "plumetrace/pipeline/init.hpp"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>

#include <mutex>

namespace plumetrace::pipeline {

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
    CPLSetErrorHandler(CPLQuietErrorHandler);
    GDALAllRegister();
  });
}

}  // namespace plumetrace::pipeline
