#include "plumetrace/audit/sha256.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <memory>

#include "plumetrace/core/error.hpp"

namespace plumetrace::audit {
namespace {

std::string to_hex(const unsigned char* digest, unsigned int n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr) != 1)
    throw Internal("SHA-256 failed");
  return to_hex(digest, n);
}

std::string sha256_file(const std::filesystem::path& file, std::uintmax_t* bytes) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) throw InvalidInput("cannot read " + file.string());
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw Internal("SHA-256 failed");
  std::array<char, 1 << 16> buf{};
  std::uintmax_t total = 0;
  for (;;) {
    const std::size_t got = std::fread(buf.data(), 1, buf.size(), f.get());
    if (got > 0 && EVP_DigestUpdate(ctx.get(), buf.data(), got) != 1) throw Internal("SHA-256 failed");
    total += got;
    if (got < buf.size()) {
      if (std::ferror(f.get())) throw InvalidInput("cannot read " + file.string());
      break;
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &n) != 1) throw Internal("SHA-256 failed");
  if (bytes != nullptr) *bytes = total;
  return to_hex(digest, n);
}

}  // namespace plumetrace::audit
