#include "diagnose/pasted.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>

#include "base/text.hpp"
#include "pypa/pep508.hpp"
#include "pypa/site_packages.hpp"

namespace alltalk {

namespace {

constexpr std::string_view kTraceback = "Traceback (most recent call last):";
constexpr std::string_view kDuringHandling =
    "During handling of the above exception, another exception occurred:";
constexpr std::string_view kDirectCause =
    "The above exception was the direct cause of the following exception:";
// Lines that are failures whatever the rules say: the generic import explanation and pip's
// conflict report read them.
constexpr std::string_view kNoModule = "No module named ";
constexpr std::string_view kCannotImport = "cannot import name ";
constexpr std::string_view kPipConflict = ", but you have ";
constexpr std::string_view kInstalled = "Successfully installed ";
// What tells the OS a text comes from.
constexpr std::string_view kWindowsMarks[] = {"\\site-packages\\", ":\\", "WinError", ".dll"};
constexpr std::string_view kMacMarks[] = {"/Users/", "darwin"};
constexpr std::string_view kLinuxMarks[] = {"/site-packages/", "/home/", "/usr/", ".so."};
constexpr std::string_view kPythonMarks[] = {"Python 3.", "python3.", "Python3"};
constexpr std::size_t kMaxMessageLines = 40;
constexpr std::size_t kMaxFrameLines = 4000;

// Every offset of `needle` in `hay` (non-overlapping), by one std::string_view::find pass.
std::vector<std::size_t> find_all(std::string_view hay, std::string_view needle) {
    std::vector<std::size_t> out;
    if (needle.empty()) {
        return out;
    }
    for (std::size_t at = hay.find(needle); at != std::string_view::npos;
         at = hay.find(needle, at + needle.size())) {
        out.push_back(at);
    }
    return out;
}

// Every offset of each of many needles, found in one pass over the text: a needle's first four
// bytes pick a slot of a 64K table, and only where the text's four bytes at a position land in a
// used slot (a bit of an 8 KiB map that stays in the cache) are the needles of that slot
// compared. A hundred needles cost about what one does (one Boyer-Moore-Horspool pass per needle
// took 2.7 s on a 50 MB log). Needles shorter than four bytes get a find_all pass each.
class Hits {
  public:
    Hits(std::string_view text, std::vector<std::string> needles) : needles_(std::move(needles)) {
        std::sort(needles_.begin(), needles_.end());
        needles_.erase(std::unique(needles_.begin(), needles_.end()), needles_.end());
        hits_.resize(needles_.size());
        std::vector<std::vector<std::uint32_t>> slots(kSlots);
        std::vector<std::uint64_t> used(kSlots / 64);
        for (std::uint32_t i = 0; i < needles_.size(); ++i) {
            const std::string& n = needles_[i];
            if (n.size() < 4) {
                hits_[i] = find_all(text, n);
                continue;
            }
            const std::size_t k = slot(n.data());
            slots[k].push_back(i);
            used[k / 64] |= std::uint64_t{1} << (k % 64);
        }
        for (std::size_t at = 0; at + 4 <= text.size(); ++at) {
            const std::size_t k = slot(text.data() + at);
            if (!((used[k / 64] >> (k % 64)) & 1u)) {
                continue;
            }
            for (std::uint32_t i : slots[k]) {
                const std::string& n = needles_[i];
                if (text.size() - at >= n.size() && text.compare(at, n.size(), n) == 0 &&
                    (hits_[i].empty() || hits_[i].back() + n.size() <= at)) {
                    hits_[i].push_back(at);
                }
            }
        }
    }
    // The offsets of `needle` (one of those given), in order.
    const std::vector<std::size_t>& of(std::string_view needle) const {
        auto it = std::lower_bound(needles_.begin(), needles_.end(), needle);
        static const std::vector<std::size_t> none;
        return it != needles_.end() && *it == needle
                   ? hits_[static_cast<std::size_t>(it - needles_.begin())]
                   : none;
    }

  private:
    static constexpr std::size_t kSlots = 1u << 16;
    static std::size_t slot(const char* p) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        return (w * 0x9E3779B1u) >> 16;
    }
    std::vector<std::string> needles_;
    std::vector<std::vector<std::size_t>> hits_;
};

bool is_ident_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_ident(char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

// The lines of the text, as offsets, with the 1-based number of the line at an offset.
class Lines {
  public:
    explicit Lines(std::string_view text) : text_(text) {
        starts_.push_back(0);
        for (std::size_t i = text.find('\n'); i != std::string_view::npos;
             i = text.find('\n', i + 1)) {
            starts_.push_back(i + 1);
        }
    }
    std::size_t count() const { return starts_.size(); }
    // 0-based index of the line holding `offset`.
    std::size_t index_of(std::size_t offset) const {
        return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) -
                                        starts_.begin()) -
               1;
    }
    std::string_view line(std::size_t index) const {
        if (index >= starts_.size()) {
            return {};
        }
        const std::size_t from = starts_[index];
        const std::size_t end = index + 1 < starts_.size() ? starts_[index + 1] - 1 : text_.size();
        return text_.substr(from, end - from);
    }
    std::size_t start(std::size_t index) const { return starts_[index]; }

  private:
    std::string_view text_;
    std::vector<std::size_t> starts_;
};

// "Type: message" or "Type" as Python prints an exception: a dotted identifier, then ": " or the
// end of the line. Without a message only names that read as exceptions count, so that a cut
// line ("torch") is not taken for one.
bool exception_line(std::string_view line, std::string& type, std::string& message) {
    std::size_t i = 0;
    if (line.empty() || !is_ident_start(line[0])) {
        return false;
    }
    while (i < line.size() && (is_ident(line[i]) || line[i] == '.')) {
        ++i;
    }
    const std::string_view name = line.substr(0, i);
    if (name.back() == '.') {
        return false;
    }
    const std::string_view last =
        name.substr(name.rfind('.') == std::string_view::npos ? 0 : name.rfind('.') + 1);
    const bool reads_as_exception = last.ends_with("Error") || last.ends_with("Exception") ||
                                    last.ends_with("Warning") || last.ends_with("Interrupt") ||
                                    last.ends_with("Exit") || last == "StopIteration" ||
                                    last.ends_with("Failure") || last.ends_with("Exceeded");
    if (i == line.size()) {
        if (!reads_as_exception) {
            return false;
        }
        type = std::string(name);
        message.clear();
        return true;
    }
    if (line[i] != ':' || (i + 1 < line.size() && line[i + 1] != ' ')) {
        return false;
    }
    // "Note: ..." or "Warning: ..." prose: only names that read as exceptions, or dotted ones.
    if (!reads_as_exception && name.find('.') == std::string_view::npos) {
        return false;
    }
    type = std::string(name);
    message = std::string(text::trim(line.substr(i + 1)));
    return true;
}

// A line that starts a log record or another program's output, which ends an exception message.
bool starts_record(std::string_view line) {
    if (line.empty()) {
        return true;
    }
    if (line.starts_with(kTraceback) || line.starts_with(kDuringHandling) ||
        line.starts_with(kDirectCause) || line[0] == '[') {
        return true;
    }
    if (line.size() >= 10 && line[0] >= '0' && line[0] <= '9' && line[4] == '-' && line[7] == '-') {
        return true;  // 2024-06-01 ...
    }
    for (std::string_view level : {"INFO", "ERROR", "WARNING", "DEBUG", "CRITICAL"}) {
        if (line.starts_with(level) && line.size() > level.size() &&
            (line[level.size()] == ':' || line[level.size()] == ' ' || line[level.size()] == '|')) {
            return true;
        }
    }
    return false;
}

struct Block {
    std::vector<PastedException> chain;
    std::size_t first = 0, last = 0;  // 0-based lines
    std::string text;                 // the block's lines, prefixes stripped
};

// The traceback block whose first "Traceback" line is `index`; `prefix` is what stands before
// "Traceback" on that line and is taken off every following line that has it.
Block read_block(const Lines& lines, std::size_t index, std::string_view prefix) {
    Block b;
    b.first = index;
    auto strip = [&](std::string_view l) {
        if (!prefix.empty() && l.starts_with(prefix)) {
            l.remove_prefix(prefix.size());
        } else if (!prefix.empty()) {
            // A prefix of spaces only ("    Traceback" in an indented log): keep what is past it.
            const std::string_view p = text::trim(prefix);
            if (p.empty()) {
                const std::size_t spaces = std::min(l.find_first_not_of(' '), l.size());
                l.remove_prefix(std::min(spaces, prefix.size()));
            }
        }
        return l;
    };
    std::size_t i = index;
    while (i < lines.count()) {
        // One exception: "Traceback ...", frames, "Type: message", its message lines.
        std::string_view head = strip(lines.line(i));
        if (!head.starts_with(kTraceback)) {
            break;
        }
        PastedException ex;
        ex.line = i + 1;
        std::string own(head);
        own += '\n';
        ++i;
        bool found = false;
        std::size_t frames = 0;
        while (i < lines.count() && frames < kMaxFrameLines) {
            const std::string_view l = strip(lines.line(i));
            if (l.starts_with(kTraceback)) {
                break;  // a traceback without its exception line (cut off)
            }
            std::string type, message;
            if (!l.empty() && l[0] != ' ' && l[0] != '\t' && exception_line(l, type, message)) {
                own.append(l);
                own += '\n';
                ++i;
                for (std::size_t n = 0; n < kMaxMessageLines && i < lines.count(); ++n, ++i) {
                    const std::string_view more = strip(lines.line(i));
                    std::string t2, m2;
                    if (starts_record(more) || exception_line(more, t2, m2)) {
                        break;
                    }
                    message += '\n';
                    message.append(more);
                    own.append(more);
                    own += '\n';
                }
                ex.failure.exception_type = std::move(type);
                ex.failure.message = std::move(message);
                found = true;
                break;
            }
            if (l.empty() && frames > 0) {
                break;
            }
            own.append(l);  // a frame, its code, or the rest of a line the terminal cut
            own += '\n';
            ++i;
            ++frames;
        }
        ex.failure.traceback = own;
        b.text += own;
        b.last = i == 0 ? 0 : i - 1;
        if (!found) {
            if (!b.chain.empty() || frames > 0) {
                b.chain.push_back(std::move(ex));
            }
            break;
        }
        b.chain.push_back(std::move(ex));
        // A chain goes on: blank lines, the separator, blank lines, the next "Traceback".
        std::size_t j = i;
        while (j < lines.count() && text::trim(strip(lines.line(j))).empty()) {
            ++j;
        }
        if (j >= lines.count()) {
            break;
        }
        const std::string_view sep = text::trim(strip(lines.line(j)));
        if (sep != kDuringHandling && sep != kDirectCause) {
            break;
        }
        std::size_t k = j + 1;
        while (k < lines.count() && text::trim(strip(lines.line(k))).empty()) {
            ++k;
        }
        if (k >= lines.count() || !strip(lines.line(k)).starts_with(kTraceback)) {
            break;
        }
        b.text += "\n";
        b.text.append(sep);
        b.text += "\n\n";
        i = k;
    }
    return b;
}

std::string headline_of(const FailureInfo& f) {
    std::string out = f.exception_type;
    const std::string m = text::first_line(f.message);
    if (!m.empty()) {
        out += (out.empty() ? "" : ": ") + m;
    }
    return out;
}

// "ModuleNotFoundError: ..." somewhere in a line: the type and the message after it.
void type_in_line(std::string_view line, FailureInfo& f) {
    for (std::size_t at = line.find(": "); at != std::string_view::npos;
         at = line.find(": ", at + 2)) {
        std::size_t from = at;
        while (from > 0 && (is_ident(line[from - 1]) || line[from - 1] == '.')) {
            --from;
        }
        std::string type, message;
        if (from < at && exception_line(line.substr(from), type, message)) {
            f.exception_type = std::move(type);
            f.message = std::move(message);
            return;
        }
    }
    if (line.find(kNoModule) != std::string_view::npos) {
        f.exception_type = "ModuleNotFoundError";
        f.message = std::string(line.substr(line.find(kNoModule)));
    } else if (line.find(kCannotImport) != std::string_view::npos) {
        f.exception_type = "ImportError";
        f.message = std::string(line.substr(line.find(kCannotImport)));
    }
}

bool version_char(char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == '+' || (c >= 'a' && c <= 'z');
}

// "2.2.1", "2.2.1+cu121" at `s`; empty when `s` does not start with a dotted version.
std::string_view version_at(std::string_view s) {
    std::size_t n = 0;
    while (n < s.size() && version_char(s[n])) {
        ++n;
    }
    std::string_view v = s.substr(0, n);
    while (!v.empty() && (v.back() == '.' || v.back() == '+')) {
        v.remove_suffix(1);
    }
    if (v.empty() || v[0] < '0' || v[0] > '9' || v.find('.') == std::string_view::npos) {
        return {};
    }
    return v;
}

// Sets name's version; a name the text gives two versions of is not known (a log of an upgrade,
// a comment quoting another user's set): `ambiguous` keeps it out.
void set_version(PastedFacts& facts, std::set<std::string>& ambiguous, const std::string& key,
                 std::string_view v) {
    if (ambiguous.count(key)) {
        return;
    }
    auto [it, added] = facts.versions.emplace(key, std::string(v));
    if (!added && it->second != v) {
        facts.versions.erase(it);
        ambiguous.insert(key);
    }
}

void read_facts(std::string_view text, const Hits& hits, const std::vector<std::string>& names,
                PastedFacts& facts) {
    std::set<std::string> ambiguous;
    // pip: "X 1.0 requires Y<2, but you have Y 2.1 which is incompatible."
    for (std::size_t at : hits.of(kPipConflict)) {
        std::string_view rest = text.substr(at + kPipConflict.size());
        rest = rest.substr(0, rest.find('\n'));
        const std::size_t sp = rest.find(' ');
        if (sp != std::string_view::npos) {
            const std::string_view v = version_at(rest.substr(sp + 1));
            if (!v.empty()) {
                set_version(facts, ambiguous, normalize_name(rest.substr(0, sp)), v);
            }
        }
    }
    // pip: "Successfully installed a-1.0 b_c-2.0"
    for (std::size_t at : hits.of(kInstalled)) {
        std::string_view rest = text.substr(at + 23);
        rest = rest.substr(0, rest.find('\n'));
        for (const auto& item : text::split(std::string(rest), ' ')) {
            const std::size_t dash = item.rfind('-');
            if (dash != std::string::npos && dash > 0) {
                const std::string_view v = version_at(std::string_view(item).substr(dash + 1));
                if (!v.empty()) {
                    set_version(facts, ambiguous, normalize_name(item.substr(0, dash)), v);
                }
            }
        }
    }
    // "torch 2.2.1", "torch==2.2.1", "torch: 2.2.1", "torch version 2.2.1"
    for (const auto& name : names) {
        for (std::size_t at : hits.of(name)) {
            if (at > 0) {
                const char b = text[at - 1];
                if (is_ident(b) || b == '/' || b == '\\' || b == '.' || b == '-' || b == '\'') {
                    continue;
                }
            }
            std::string_view rest = text.substr(at + name.size());
            for (std::string_view sep : {"==", ": ", " version: ", " version ", " "}) {
                if (rest.starts_with(sep)) {
                    const std::string_view v = version_at(rest.substr(sep.size()));
                    if (!v.empty()) {
                        set_version(facts, ambiguous, normalize_name(name), v);
                    }
                    break;
                }
            }
        }
    }
    // The Python: "Python 3.11.9", a site-packages path (".../python3.11/", "\Python311\").
    for (std::size_t at : hits.of("Python 3.")) {
        const std::string_view v = version_at(text.substr(at + 7));
        if (!v.empty()) {
            facts.python_version = std::string(v);
        }
    }
    if (facts.python_version.empty()) {
        for (std::string_view key : {kPythonMarks[1], kPythonMarks[2]}) {
            for (std::size_t at : hits.of(key)) {
                std::string_view rest = text.substr(at + key.size());
                std::size_t n = 0;
                while (n < rest.size() && n < 2 && rest[n] >= '0' && rest[n] <= '9') {
                    ++n;
                }
                if (n > 0 && (key == "python3." ? n < rest.size() && rest[n] == '/'
                                                : n < rest.size() && rest[n] == '\\')) {
                    facts.python_version = "3." + std::string(rest.substr(0, n));
                    break;
                }
            }
            if (!facts.python_version.empty()) {
                break;
            }
        }
    }
    // The OS, from the paths.
    const auto has = [&](std::string_view s) { return !hits.of(s).empty(); };
    const auto any = [&](const auto& marks) {
        return std::any_of(std::begin(marks), std::end(marks), has);
    };
    if (any(kWindowsMarks)) {
        facts.os = PastedFacts::Os::Windows;
    } else if (any(kMacMarks)) {
        facts.os = PastedFacts::Os::MacOS;
    } else if (any(kLinuxMarks)) {
        facts.os = PastedFacts::Os::Linux;
    }
}

}  // namespace

std::string normalize_console_text(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        const char c = in[i];
        if (c == '\x1b') {
            if (i + 1 < in.size() && in[i + 1] == '[') {  // CSI: parameters, then a final byte
                std::size_t j = i + 2;
                while (j < in.size() && (static_cast<unsigned char>(in[j]) < 0x40 ||
                                         static_cast<unsigned char>(in[j]) > 0x7E)) {
                    if (in[j] == '\n') {
                        break;
                    }
                    ++j;
                }
                i = j < in.size() && in[j] != '\n' ? j + 1 : j;
            } else if (i + 1 < in.size() && in[i + 1] == ']') {  // OSC: to BEL or ESC backslash
                std::size_t j = i + 2;
                while (j < in.size() && in[j] != '\a' && in[j] != '\n' &&
                       !(in[j] == '\x1b' && j + 1 < in.size() && in[j + 1] == '\\')) {
                    ++j;
                }
                i = j < in.size() ? (in[j] == '\x1b' ? j + 2 : in[j] == '\a' ? j + 1 : j) : j;
            } else {
                i += 2;  // ESC and one character
            }
            continue;
        }
        if (c == '\r') {
            out += '\n';
            i += i + 1 < in.size() && in[i + 1] == '\n' ? 2 : 1;
            continue;
        }
        out += c;
        ++i;
    }
    return out;
}

std::vector<PastedException> traceback_chain(std::string_view traceback) {
    const Lines lines(traceback);
    const std::size_t at = traceback.find(kTraceback);
    if (at == std::string_view::npos) {
        return {};
    }
    const std::size_t index = lines.index_of(at);
    return read_block(lines, index, traceback.substr(lines.start(index), at - lines.start(index)))
        .chain;
}

PastedText read_pasted(std::string_view text, const std::vector<std::string>& patterns,
                       const std::vector<std::string>& names) {
    PastedText out;
    const Lines lines(text);
    out.lines = lines.count();
    std::vector<std::string> needles(patterns.begin(), patterns.end());
    needles.insert(needles.end(), names.begin(), names.end());
    for (std::string_view n : {kTraceback, kNoModule, kCannotImport, kPipConflict, kInstalled}) {
        needles.emplace_back(n);
    }
    const auto add = [&](const auto& marks) {
        needles.insert(needles.end(), std::begin(marks), std::end(marks));
    };
    add(kWindowsMarks);
    add(kMacMarks);
    add(kLinuxMarks);
    add(kPythonMarks);
    const Hits hits(text, std::move(needles));

    // Tracebacks first; the lines they hold are theirs.
    std::vector<std::pair<std::size_t, std::size_t>> taken;  // [first, last] lines of blocks
    std::size_t next_free = 0;
    for (std::size_t at : hits.of(kTraceback)) {
        const std::size_t index = lines.index_of(at);
        if (index < next_free) {
            continue;  // part of a chain already read
        }
        const std::string_view prefix = text.substr(lines.start(index), at - lines.start(index));
        if (prefix.size() > 200) {
            continue;
        }
        Block b = read_block(lines, index, prefix);
        next_free = std::max(b.last + 1, index + 1);
        taken.emplace_back(b.first, b.last);
        if (b.chain.empty()) {
            continue;
        }
        PastedFailure f;
        f.line = b.first + 1;
        f.last_line = b.last + 1;
        f.failure = b.chain.back().failure;
        f.failure.traceback = b.text;
        f.headline = headline_of(f.failure);
        if (f.headline.empty()) {
            f.headline = "a traceback cut off before its exception line";
        }
        f.chain = std::move(b.chain);
        out.failures.push_back(std::move(f));
    }
    auto in_block = [&](std::size_t index) {
        auto it = std::upper_bound(taken.begin(), taken.end(), index,
                                   [](std::size_t i, const std::pair<std::size_t, std::size_t>& r) {
                                       return i < r.first;
                                   });
        return it != taken.begin() && index <= std::prev(it)->second;
    };

    // Lines outside tracebacks that hold a failure pattern.
    std::set<std::size_t> hit_lines;
    auto collect = [&](std::string_view needle) {
        for (std::size_t at : hits.of(needle)) {
            const std::size_t index = lines.index_of(at);
            if (!in_block(index)) {
                hit_lines.insert(index);
            }
        }
    };
    for (const auto& p : patterns) {
        collect(p);
    }
    for (std::string_view p : {kNoModule, kCannotImport, kPipConflict}) {
        collect(p);
    }
    for (std::size_t index : hit_lines) {
        const std::string_view line = text::trim(lines.line(index));
        PastedFailure f;
        f.line = f.last_line = index + 1;
        f.failure.line_only = true;
        f.failure.traceback = std::string(line.substr(0, 4096));
        type_in_line(f.failure.traceback, f.failure);
        if (f.failure.message.empty()) {
            f.failure.message = f.failure.traceback;
        }
        f.headline = f.failure.traceback.substr(0, 300);
        out.failures.push_back(std::move(f));
    }
    std::stable_sort(
        out.failures.begin(), out.failures.end(),
        [](const PastedFailure& a, const PastedFailure& b) { return a.line < b.line; });
    read_facts(text, hits, names, out.facts);
    return out;
}

std::vector<std::string> failure_patterns(const RuleSet& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules.rules) {
        for (const auto& p : r.patterns) {
            if (std::find(out.begin(), out.end(), p) == out.end()) {
                out.push_back(p);
            }
        }
    }
    return out;
}

std::vector<std::string> condition_names(const RuleSet& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules.rules) {
        for (const auto& c : r.when) {
            std::string_view t = text::trim(c);
            if (!t.empty() && t.front() == '!') {
                t.remove_prefix(1);
            }
            if (t.empty() || t.front() == '$') {
                continue;
            }
            auto req = pep508::parse_requirement(t);
            if (req && req->key != "python" &&
                std::find(out.begin(), out.end(), req->name) == out.end()) {
                out.push_back(req->name);
            }
        }
    }
    return out;
}

}  // namespace alltalk
