// POSIX implementation of sha256.hpp: OpenSSL's EVP interface (libcrypto).
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "os/sha256.hpp"

namespace alltalk {

namespace {

struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

Ctx new_sha256() {
    Ctx ctx(EVP_MD_CTX_new());
    if (ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        ctx.reset();
    }
    return ctx;
}

Sha256Digest finish(EVP_MD_CTX* ctx) {
    Sha256Digest out{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, out.data(), &n);
    return out;
}

}  // namespace

std::optional<Sha256Digest> file_sha256(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    Ctx ctx = new_sha256();
    std::vector<unsigned char> buf(1 << 20);
    bool ok = ctx != nullptr;
    while (ok) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        ok = EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n)) == 1;
    }
    ::close(fd);
    if (!ok) {
        return std::nullopt;
    }
    return finish(ctx.get());
}

Sha256Digest sha256_of(std::string_view data) {
    Ctx ctx = new_sha256();
    EVP_DigestUpdate(ctx.get(), data.data(), data.size());
    return finish(ctx.get());
}

}  // namespace alltalk
