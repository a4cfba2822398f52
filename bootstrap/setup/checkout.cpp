#include "setup/checkout.hpp"

#include "base/files.hpp"
#include "base/text.hpp"
#include "discover/root.hpp"
#include "os/process.hpp"
#include "os/sha256.hpp"

namespace fs = std::filesystem;

namespace alltalk::setup {

namespace {

constexpr const char* kRequirements = "system/requirements/requirements_standalone.txt";

bool present(const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec);
}

// A requirement line that names a file of the checkout ("./system/config/x.whl; marker").
bool names_local_file(const std::string& line) {
    return line.rfind("./", 0) == 0 || line.rfind(".\\", 0) == 0 || line.rfind("../", 0) == 0;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : sha256_of(data)) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

Checkout inspect_checkout(const fs::path& root) {
    Checkout c;
    c.root = root;
    if (!looks_like_alltalk_root(root)) {
        return c;
    }
    // v2 has its TTS engines in folders of their own; v1 has its model downloader at the top.
    if (present(root / "system" / "tts_engines")) {
        c.version = "v2";
        c.why = "system/tts_engines/ (AllTalk v2, branch alltalkbeta)";
    } else if (present(root / "modeldownload.py")) {
        c.version = "v1";
        c.why = "modeldownload.py and no system/tts_engines/ (AllTalk v1, branch main)";
    } else {
        return c;
    }
    const fs::path req = root / fs::path(kRequirements);
    std::string text;
    if (!files::read_text(req, text)) {
        return c;
    }
    c.requirements = req;
    c.requirements_rel = kRequirements;
    c.requirements_sha256 = sha256_hex(text);
    for (const auto& raw : text::split(text, '\n')) {
        std::string line(text::trim(raw));
        if (const auto hash = line.find(" #"); hash != std::string::npos) {
            line = std::string(text::trim(line.substr(0, hash)));
        }
        if (line.empty() || line[0] == '#') {
            continue;
        }
        (names_local_file(line) ? c.local_lines : c.requirement_lines).push_back(line);
    }
    return c;
}

std::string checkout_problem(const Checkout& c) {
    const std::string where = process::to_utf8(c.root);
    const std::string get =
        " Get AllTalk first (git clone -b alltalkbeta https://github.com/erew123/alltalk_tts "
        "alltalk_tts for v2), then run `alltalk-launch setup --root <that folder>`.";
    if (!looks_like_alltalk_root(c.root)) {
        return "Not setting up: " + where +
               " is not an AllTalk checkout (it has no script.py and finetune.py), so there are "
               "no AllTalk requirements to install from." +
               get;
    }
    if (c.version.empty()) {
        return "Not setting up: " + where +
               " has AllTalk's script.py and finetune.py, but neither v2's system/tts_engines/ "
               "nor v1's modeldownload.py, so which AllTalk it is (and so which requirements and "
               "lock it needs) is unknown. Check out AllTalk v2 (branch alltalkbeta) or v1 "
               "(branch main) as published.";
    }
    if (c.requirements.empty()) {
        return "Not setting up: AllTalk " + c.version + " in " + where + " has no " +
               kRequirements + ", which lists what its env needs. Restore it (git checkout -- " +
               kRequirements + ") and run setup again.";
    }
    const std::string name = process::to_utf8(c.root.filename());
    if (name.find('-') != std::string::npos) {
        return "Not setting up: the AllTalk folder's name " + name +
               " contains a '-', and AllTalk's script.py refuses to start from a folder so "
               "named, so an env made for it would not start. Rename the folder (for example "
               "alltalk_tts instead of alltalk_tts-main), then run setup there.";
    }
    return "";
}

}  // namespace alltalk::setup
