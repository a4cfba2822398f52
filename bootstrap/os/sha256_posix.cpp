// POSIX implementation of sha256.hpp: OpenSSL's EVP interface, from the system's libcrypto loaded
// at run time, the first time a digest is asked for (only `fix` and `fix --undo` hash files).
// Linked in, statically, libcrypto's EVP brings its whole provider machinery: 4 MB of code and
// 340 KB of pointers that the dynamic loader relocates, and OpenSSL's constructors, on every start
// of every launch (about 0.6 ms, 100 page faults: bench/startup.py); linked shared, it is one more
// library loaded on every start. Every Linux with OpenSSL 3 has libcrypto.so.3 (Debian's libssl3,
// a dependency of the .deb).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "os/dynlib.hpp"
#include "os/sha256.hpp"

namespace alltalk {

namespace {

// The few EVP functions used, with their OpenSSL 3 signatures (opaque pointers only).
struct Crypto {
    void* (*md_ctx_new)() = nullptr;
    void (*md_ctx_free)(void*) = nullptr;
    const void* (*sha256)() = nullptr;
    int (*digest_init_ex)(void*, const void*, void*) = nullptr;
    int (*digest_update)(void*, const void*, std::size_t) = nullptr;
    int (*digest_final_ex)(void*, unsigned char*, unsigned int*) = nullptr;
};

template <typename Fn>
bool bind(const dynlib::Library& lib, Fn& fn, const char* name, std::string& missing) {
    fn = reinterpret_cast<Fn>(dynlib::symbol(lib, name));
    if (!fn && missing.empty()) {
        missing = name;
    }
    return fn != nullptr;
}

Crypto load_crypto() {
    std::string tried;
    for (const char* name : {"libcrypto.so.3", "libcrypto.so"}) {
        std::string err;
        const dynlib::Library lib = dynlib::load(name, /*global=*/false, err);
        if (!lib) {
            tried += (tried.empty() ? "" : "; ") + std::string(name) + ": " + err;
            continue;
        }
        Crypto c;
        std::string missing;
        bool ok = bind(lib, c.md_ctx_new, "EVP_MD_CTX_new", missing);
        ok = bind(lib, c.md_ctx_free, "EVP_MD_CTX_free", missing) && ok;
        ok = bind(lib, c.sha256, "EVP_sha256", missing) && ok;
        ok = bind(lib, c.digest_init_ex, "EVP_DigestInit_ex", missing) && ok;
        ok = bind(lib, c.digest_update, "EVP_DigestUpdate", missing) && ok;
        ok = bind(lib, c.digest_final_ex, "EVP_DigestFinal_ex", missing) && ok;
        if (ok) {
            return c;
        }
        tried += (tried.empty() ? "" : "; ") + std::string(name) + " has no " + missing;
    }
    throw LaunchError(Stage::Fix,
                      ErrorText{"Cannot compute SHA-256 digests, which the undo point needs: "
                                "OpenSSL's libcrypto (version 3) could not be loaded. Nothing was "
                                "changed.",
                                tried,
                                "Install OpenSSL 3's library (Debian and Ubuntu: `sudo apt install "
                                "libssl3`; Fedora: `sudo dnf install openssl-libs`) and run it "
                                "again."});
}

const Crypto& crypto() {
    static const Crypto c = load_crypto();  // a failed load throws and is tried again next time
    return c;
}

struct CtxFree {
    void operator()(void* c) const { crypto().md_ctx_free(c); }
};
using Ctx = std::unique_ptr<void, CtxFree>;

Ctx new_sha256() {
    const Crypto& c = crypto();
    Ctx ctx(c.md_ctx_new());
    if (ctx && c.digest_init_ex(ctx.get(), c.sha256(), nullptr) != 1) {
        ctx.reset();
    }
    return ctx;
}

Sha256Digest finish(void* ctx) {
    Sha256Digest out{};
    unsigned int n = 0;
    crypto().digest_final_ex(ctx, out.data(), &n);
    return out;
}

}  // namespace

std::optional<Sha256Digest> file_sha256(const std::filesystem::path& path) {
    Ctx ctx = new_sha256();  // before the file: a missing libcrypto is an error, not "unreadable"
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
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
        ok = crypto().digest_update(ctx.get(), buf.data(), static_cast<std::size_t>(n)) == 1;
    }
    ::close(fd);
    if (!ok) {
        return std::nullopt;
    }
    return finish(ctx.get());
}

Sha256Digest sha256_of(std::string_view data) {
    Ctx ctx = new_sha256();
    crypto().digest_update(ctx.get(), data.data(), data.size());
    return finish(ctx.get());
}

}  // namespace alltalk
