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
