#pragma once
// Small string helpers, one copy each for the whole tree. ASCII only: they work on names, versions
// and file names, never on user text that could need Unicode rules.
#include <string>
#include <string_view>
#include <vector>

#include "base/platform.hpp"

namespace alltalk::text {

// Without leading and trailing ASCII whitespace (space, \t, \n, \r, \f, \v).
std::string_view trim(std::string_view s);
// Python's idea of whitespace (str.isspace(), re's \s on str): the ASCII whitespace above plus
// \x1c-\x1f and the Unicode spaces (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
// U+202F, U+205F, U+3000), read as UTF-8. The byte length of the one at `i`, or 0.
std::size_t python_space_at(std::string_view s, std::size_t i);
// Without leading and trailing Python whitespace: str.strip().
std::string_view python_strip(std::string_view s);
// ASCII lower case.
std::string lower(std::string_view s);
// The pieces between `sep`s; empty pieces are kept ("a::b" -> "a", "", "b"; "" -> "").
std::vector<std::string> split(std::string_view s, char sep);
// The same without the empty pieces.
std::vector<std::string> split_nonempty(std::string_view s, char sep);
std::string join(const std::vector<std::string>& items, std::string_view sep);
// The leading decimal integer of `s`, or -1 when `s` does not start with a digit.
int leading_int(std::string_view s);
// What follows the last '.' ("_pickle.UnpicklingError" -> "UnpicklingError"), or all of `s`.
std::string last_dotted_part(std::string_view s);
// Up to the first '\n' (all of `s` when it has none).
std::string first_line(std::string_view s);

// One argument of a command that the user can paste into their shell, quoted by that shell's
// rules. POSIX: left as it is when it holds only characters that no shell treats specially
// (letters, digits, @%+=:,./-_), otherwise in single quotes: exactly Python's shlex.quote.
// Windows (cmd.exe): always in double quotes, so that <, >, & and spaces are taken literally.
std::string quote_arg(std::string_view arg, Platform platform);

}  // namespace alltalk::text
