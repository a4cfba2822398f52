// Windows implementation of sha256.hpp: BCrypt (CNG), no OpenSSL to ship.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
// bcrypt.h after windows.h
#include <bcrypt.h>

#include <vector>

#include "os/sha256.hpp"

namespace alltalk {

namespace {

// One hash object of the SHA-256 provider, closed with it.
class Hash {
  public:
    Hash() {
        if (!BCRYPT_SUCCESS(
                ::BCryptOpenAlgorithmProvider(&alg_, BCRYPT_SHA256_ALGORITHM, nullptr, 0))) {
            alg_ = nullptr;
            return;
        }
        if (!BCRYPT_SUCCESS(::BCryptCreateHash(alg_, &hash_, nullptr, 0, nullptr, 0, 0))) {
            hash_ = nullptr;
        }
    }
    Hash(const Hash&) = delete;
    Hash& operator=(const Hash&) = delete;
    ~Hash() {
        if (hash_) {
            ::BCryptDestroyHash(hash_);
        }
        if (alg_) {
            ::BCryptCloseAlgorithmProvider(alg_, 0);
        }
    }
    bool ok() const { return hash_ != nullptr; }
    bool update(const void* data, ULONG n) {
        return BCRYPT_SUCCESS(
            ::BCryptHashData(hash_, static_cast<PUCHAR>(const_cast<void*>(data)), n, 0));
    }
    Sha256Digest finish() {
        Sha256Digest out{};
        ::BCryptFinishHash(hash_, out.data(), static_cast<ULONG>(out.size()), 0);
        return out;
    }

  private:
    BCRYPT_ALG_HANDLE alg_ = nullptr;
    BCRYPT_HASH_HANDLE hash_ = nullptr;
};

}  // namespace

std::optional<Sha256Digest> file_sha256(const std::filesystem::path& path) {
    HANDLE f = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE,
                             nullptr, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
    if (f == INVALID_HANDLE_VALUE) {
        return std::nullopt;
    }
    Hash hash;
    std::vector<unsigned char> buf(1 << 20);
    bool ok = hash.ok();
    while (ok) {
        DWORD n = 0;
        if (!::ReadFile(f, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr)) {
            ok = false;
            break;
        }
        if (n == 0) {
            break;
        }
        ok = hash.update(buf.data(), n);
    }
    ::CloseHandle(f);
    if (!ok) {
        return std::nullopt;
    }
    return hash.finish();
}

Sha256Digest sha256_of(std::string_view data) {
    Hash hash;
    hash.update(data.data(), static_cast<ULONG>(data.size()));
    return hash.finish();
}

}  // namespace alltalk
