#pragma once
// Writing one command's `overlay = [...]` into alltalk-launch.toml's text, keeping the rest of
// the file (comments, order, other keys) as it was (pure). toml++ locates the table and the key;
// the edited text is parsed again, and it must give exactly the requested overlay and leave every
// other setting equal, or nothing is returned.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace alltalk {

// `text` with `[command] overlay = requirements`: the existing value replaced, or the key added
// under the command's table, or the table added at the end. Throws LaunchError (Stage::Config)
// when the text does not parse, when the table is an inline one (`finetune = { ... }`, which
// cannot take a new key without rewriting it), or when the result would not read back as asked.
std::string with_overlay(std::string_view text, const std::filesystem::path& origin,
                         const std::string& command, const std::vector<std::string>& requirements);

// A TOML array of basic strings, on one line: ["gradio==3.50.2", "pydantic<2"].
std::string toml_string_array(const std::vector<std::string>& items);

}  // namespace alltalk
