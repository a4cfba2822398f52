// The platform-neutral part of inputs.hpp: the recording and the checks.
#include <system_error>

#include "os/inputs.hpp"

namespace fs = std::filesystem;

namespace alltalk::inputs {

namespace {

thread_local Recording* t_current = nullptr;

}  // namespace

Recording::Recording() : previous_(t_current) {
    t_current = this;
}

Recording::~Recording() {
    t_current = previous_;
}

std::vector<Observation> Recording::take() {
    std::vector<Observation> out;
    out.swap(seen_);
    keys_.clear();
    return out;
}

void note(const fs::path& p) {
    if (!t_current || !supported()) {
        return;
    }
    if (!t_current->keys_.insert("s" + p.string()).second) {
        return;
    }
    Observation o;
    o.kind = 's';
    o.path = p.string();
    o.seen = signature(p, &o.changed_ns);
    if (o.seen == "absent") {
        // A path whose folder is absent too is recorded as its highest absent folder: that one
        // stays absent exactly while nothing is made along the way, and when it lies in a
        // recorded folder the check need not look at it (first_changed). The cuDNN scan asks for
        // <package>/lib of every distribution, and many have no <package> folder at all.
        fs::path top = p;
        for (fs::path up = p.parent_path(); up.has_relative_path() && up != top;
             up = up.parent_path()) {
            if (signature(up) != "absent") {
                break;
            }
            top = up;
        }
        if (top != p) {
            if (!t_current->keys_.insert("s" + top.string()).second) {
                return;  // already recorded (absent, or seen before it went)
            }
            o.path = top.string();
        }
    }
    t_current->seen_.push_back(std::move(o));
}

void note_canonical(const fs::path& p, const fs::path& result) {
    if (!t_current || !supported()) {
        return;
    }
    if (!t_current->keys_.insert("c" + p.string()).second) {
        return;
    }
    t_current->seen_.push_back({'c', p.string(), result.string(), 0});
}

bool still_holds(const Observation& o) {
    if (o.kind == 'c') {
        return canonical(o.path).string() == o.seen;
    }
    return o.kind == 's' && signature_is(o.path, o.seen);
}

}  // namespace alltalk::inputs
