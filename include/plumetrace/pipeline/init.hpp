#pragma once
/// @file init.hpp
/// Process-wide library setup, done in one place for every shell (CLI, server, tests).

namespace plumetrace::pipeline {

/// Set up GDAL and PROJ once per process: register GDAL's drivers (`GDALAllRegister`), forbid
/// directory listings on open (`GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR`) and install a quiet
/// error handler (GDAL's words reach users only through our own errors, never stderr).
/// Idempotent and thread-safe: later calls return at once.
void init();

}  // namespace plumetrace::pipeline
