#include "discover/config_edit.hpp"

#include <toml++/toml.h>

#include <cstdio>

#include "base/error.hpp"
#include "discover/config.hpp"

namespace alltalk {

namespace {

[[noreturn]] void refuse(const std::filesystem::path& origin, const std::string& why) {
    throw LaunchError(Stage::Config,
                      ErrorText{"alltalk-launch could not add the overlay to " + origin.string() +
                                    ": " + why + " The file was not changed.",
                                "", "Add the `overlay = [...]` line shown above by hand."});
}

// The byte offset of a toml++ position (1-based line, 1-based column in code points).
std::size_t offset_of(std::string_view text, const toml::source_position& pos) {
    std::size_t at = 0;
    for (std::uint32_t line = 1; line < pos.line && at < text.size(); ++line) {
        const std::size_t nl = text.find('\n', at);
        at = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    for (std::uint32_t col = 1; col < pos.column && at < text.size(); ++col) {
        ++at;  // past one code point: its lead byte, then its continuation bytes
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) {
            ++at;
        }
    }
    return at;
}

// Just past the end of the line holding `at` (after its '\n', or the end of the text).
std::size_t end_of_line(std::string_view text, std::size_t at) {
    const std::size_t nl = text.find('\n', at);
    return nl == std::string_view::npos ? text.size() : nl + 1;
}

bool same_command(const CommandConfig& a, const CommandConfig& b) {
    return a.script == b.script && a.args == b.args && a.env == b.env &&
           a.environment == b.environment;
}

}  // namespace

std::string toml_string_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i ? ", \"" : "\"";
        for (unsigned char c : items[i]) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x20 || c == 0x7F) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04X", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        out += '"';
    }
    return out + "]";
}

std::string with_overlay(std::string_view text, const std::filesystem::path& origin,
                         const std::string& command, const std::vector<std::string>& requirements) {
    const Config before = parse_config(text, origin);  // a file that does not parse: its error
    toml::table doc;
    try {
        doc = toml::parse(text, origin.string());
    } catch (const toml::parse_error& e) {
        refuse(origin, std::string(e.description()));
    }
    const std::string value = toml_string_array(requirements);
    std::string out(text);
    toml::table* table = doc[command].as_table();
    if (!table) {
        if (!out.empty() && out.back() != '\n') {
            out += '\n';
        }
        out += "\n[" + command + "]\noverlay = " + value + "\n";
    } else if (toml::node* node = table->get("overlay")) {
        const std::size_t from = offset_of(text, node->source().begin);
        const std::size_t to = offset_of(text, node->source().end);
        if (from >= to || to > text.size()) {
            refuse(origin, "the position of its `overlay` value could not be found.");
        }
        out.replace(from, to - from, value);
    } else if (table->is_inline()) {
        refuse(origin, "[" + command + "] is an inline table (`" + command +
                           " = { ... }`), which cannot take one more key without rewriting it.");
    } else {
        // What starts the table: its own header, a dotted key (`finetune.script = ...`) or a
        // sub-table's header, which only implies it.
        const std::size_t at = offset_of(text, table->source().begin);
        const std::size_t line_end = end_of_line(text, at);
        const std::string_view line = text.substr(at, line_end - at);
        const std::string header = "[" + command + "]";
        std::string add;
        if (line.substr(0, header.size()) == header) {
            add = "overlay = " + value + "\n";
        } else if (line.substr(0, command.size() + 1) == command + ".") {
            add = command + ".overlay = " + value + "\n";
        }
        if (add.empty()) {
            if (!out.empty() && out.back() != '\n') {
                out += '\n';
            }
            out += "\n" + header + "\noverlay = " + value + "\n";
        } else {
            if (line_end == text.size() && !out.empty() && out.back() != '\n') {
                add = "\n" + add;
            }
            out.insert(line_end, add);
        }
    }
    // Proof: the edited text reads back with this overlay and every other setting as it was.
    Config after;
    try {
        after = parse_config(out, origin);
    } catch (const LaunchError& e) {
        refuse(origin, std::string("the edited file would not read back (") + e.what() + ").");
    }
    const CommandConfig* a = after.command(command);
    const CommandConfig* b = before.command(command);
    const CommandConfig* other_a = after.command(command == "server" ? "finetune" : "server");
    const CommandConfig* other_b = before.command(command == "server" ? "finetune" : "server");
    if (!a || !b || a->overlay != requirements || !same_command(*a, *b) ||
        other_a->overlay != other_b->overlay || !same_command(*other_a, *other_b) ||
        after.env != before.env || after.environment != before.environment ||
        after.native.cudnn != before.native.cudnn ||
        after.native.cudnn_majors != before.native.cudnn_majors ||
        after.native.gpu_check != before.native.gpu_check ||
        after.native.cpu != before.native.cpu ||
        after.torch_safe_globals.size() != before.torch_safe_globals.size()) {
        refuse(origin, "the edited file would not read back as intended.");
    }
    return out;
}

}  // namespace alltalk
