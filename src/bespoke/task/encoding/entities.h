// The entities mnemonic's scorer looks for in a text — numbers, file paths, versions and
// proper nouns — found with its regular expressions under Python's Unicode rules (\d, \w, \s
// and \b match non-ASCII digits, letters and spaces; [A-Z] stays ASCII), and the Python string
// operations its metrics use.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace bespoke::task::encoding {

// Numbers with commas removed: comma-grouped, scientific, percentages, decimals and fractions
// keep a leading minus, plain integers never do ("worker-3" gives "3").
std::set<std::string> extract_numbers(const std::string& text);

// Numbers, paths, versions and proper nouns (multi-word capitalised runs, capitalised words
// after a lower-case letter, comma or semicolon and a space, @mentions, CamelCase), the
// proper nouns filtered to >= 3 code points and not starting with "The ".
std::set<std::string> extract_entities(const std::string& text);

// Python's str.lower(): full lower-case mapping (İ -> i̇) and the final-sigma rule.
std::string python_lower(const std::string& text);

// Python's str.strip(): every Unicode white-space character off both ends.
std::string python_strip(const std::string& text);

// Python's len() of a str.
size_t code_points(const std::string& text);

// Python's findall(r"\w+", text).
std::vector<std::string> words(const std::string& text);

}  // namespace bespoke::task::encoding
