#pragma once
/// @file sha256.hpp
/// SHA-256 (FIPS 180-4, OpenSSL's EVP) as lower-case hex: the store's content addresses and the
/// audit log's input, result and chain hashes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace plumetrace::audit {

/// SHA-256 of `bytes` as 64 lower-case hex digits. @throws Internal when OpenSSL fails.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

/// SHA-256 of a file's bytes (streamed) as 64 lower-case hex digits; `bytes` (when given) receives
/// its size. @throws InvalidInput when the file cannot be read.
[[nodiscard]] std::string sha256_file(const std::filesystem::path& file, std::uintmax_t* bytes = nullptr);

}  // namespace plumetrace::audit
