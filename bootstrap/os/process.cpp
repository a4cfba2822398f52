// Platform-neutral parts of process.hpp.
#include "os/process.hpp"

#include <functional>
#include <utility>

namespace alltalk::process {

std::uint64_t environment_entry_digest(std::string_view entry) {
    // std::hash of the entry, then a 64-bit finaliser (MurmurHash3's fmix64): summed over the
    // entries, a digest that does not depend on their order.
    std::uint64_t x = std::hash<std::string_view>{}(entry);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

void apply(const std::vector<EnvChange>& changes) {
    for (const auto& c : changes) {
        if (c.value) {
            set_env(c.name, *c.value);
        } else {
            unset_env(c.name);
        }
    }
}

EnvMap with_changes(EnvMap env, const std::vector<EnvChange>& changes) {
    for (const auto& c : changes) {
        if (c.value) {
            env[c.name] = *c.value;
        } else {
            env.erase(c.name);
        }
    }
    return env;
}

Child::Child(Child&& other) noexcept
    : handle_(std::exchange(other.handle_, 0)),
      job_(std::exchange(other.job_, 0)),
      status_(std::move(other.status_)) {}

Child& Child::operator=(Child&& other) noexcept {
    if (this != &other) {
        kill();
        handle_ = std::exchange(other.handle_, 0);
        job_ = std::exchange(other.job_, 0);
        status_ = std::move(other.status_);
    }
    return *this;
}

}  // namespace alltalk::process
