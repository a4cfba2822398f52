// Platform-neutral parts of process.hpp.
#include "os/process.hpp"

#include <utility>

namespace alltalk::process {

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
