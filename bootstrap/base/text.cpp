#include "base/text.hpp"

namespace alltalk::text {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool shell_safe(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
}

}  // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::size_t python_space_at(std::string_view s, std::size_t i) {
    if (i >= s.size()) {
        return 0;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
        return ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20)) ? 1 : 0;
    }
    // The code point of the UTF-8 sequence at i (only the 2- and 3-byte forms hold spaces).
    auto cont = [&](std::size_t k) {
        return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    };
    if ((c & 0xe0) == 0xc0 && cont(1)) {
        const unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
        return (cp == 0x85 || cp == 0xa0) ? 2 : 0;
    }
    if ((c & 0xf0) == 0xe0 && cont(1) && cont(2)) {
        const unsigned cp = ((c & 0x0fu) << 12) |
                            ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 6) |
                            (static_cast<unsigned char>(s[i + 2]) & 0x3fu);
        const bool space = cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
                           cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
        return space ? 3 : 0;
    }
    return 0;
}

std::string_view python_strip(std::string_view s) {
    std::size_t b = 0;
    while (std::size_t n = python_space_at(s, b)) {
        b += n;
    }
    std::size_t e = s.size();
    while (e > b) {
        // Step back over one UTF-8 sequence (at most 3 bytes for a space) and test it.
        std::size_t start = e - 1;
        while (start > b && e - start < 3 &&
               (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80) {
            --start;
        }
        if (python_space_at(s, start) != e - start) {
            break;
        }
        e = start;
    }
    return s.substr(b, e - b);
}

std::string last_dotted_part(std::string_view s) {
    const std::size_t dot = s.rfind('.');
    return std::string(dot == std::string_view::npos ? s : s.substr(dot + 1));
}

std::string first_line(std::string_view s) {
    return std::string(s.substr(0, s.find('\n')));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t at = s.find(sep, start);
        out.emplace_back(s.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) {
            return out;
        }
        start = at + 1;
    }
}

std::vector<std::string> split_nonempty(std::string_view s, char sep) {
    std::vector<std::string> out;
    for (auto& piece : split(s, sep)) {
        if (!piece.empty()) {
            out.push_back(std::move(piece));
        }
    }
    return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) {
            out += sep;
        }
        out += items[i];
    }
    return out;
}

int leading_int(std::string_view s) {
    int v = 0;
    std::size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9' && v < 100000000; ++i) {
        v = v * 10 + (s[i] - '0');
    }
    return i == 0 ? -1 : v;
}

std::string quote_arg(std::string_view arg, Platform platform) {
    if (platform == Platform::Windows) {
        std::string out = "\"";
        for (char c : arg) {
            if (c == '"') {
                out += '\\';
            }
            out += c;
        }
        return out + "\"";
    }
    bool plain = !arg.empty();
    for (char c : arg) {
        plain = plain && shell_safe(c);
    }
    if (plain) {
        return std::string(arg);
    }
    std::string out = "'";
    for (char c : arg) {
        if (c == '\'') {
            out += "'\"'\"'";
        } else {
            out += c;
        }
    }
    return out + "'";
}

}  // namespace alltalk::text
