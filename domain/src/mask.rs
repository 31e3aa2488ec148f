//! How personal data looks wherever it is formatted: logs, `Debug`, `Display`, demo output.
//!
//! One rule per kind of value so that a log line never depends on who wrote it:
//! numbers keep their first and last four digits (`7700********1234`), words keep their first
//! and last letters (`П*******А`), birth dates keep nothing.

/// `7700123456781234` -> `7700********1234`. Short inputs are fully starred: a fragment of a
/// number is still a fragment of a person.
pub fn digits(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len().max(4));
    }
    let n = chars.len();
    chars[..4].iter().chain(std::iter::repeat_n(&'*', n - 8)).chain(&chars[n - 4..]).collect()
}

/// `ПЕТРОВА` -> `П*****А`; a one- or two-letter word becomes its first letter and stars.
pub fn word(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 | 2 => format!("{}*", chars[0]),
        n => {
            let mut out = String::with_capacity(n * 2);
            out.push(chars[0]);
            out.extend(std::iter::repeat_n('*', n - 2));
            out.push(chars[n - 1]);
            out
        }
    }
}

/// A birth date shows nothing at all: day, month and year together identify a person.
pub const DATE: &str = "****-**-**";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_and_four() {
        assert_eq!(digits("6449013884006380"), "6449********6380");
        assert_eq!(digits("123"), "****");
    }

    #[test]
    fn words_keep_first_and_last_letter() {
        assert_eq!(word("ПЕТРОВСКАЯ"), "П********Я");
        assert_eq!(word("Ли"), "Л*");
        assert_eq!(word("Я"), "Я*");
        assert_eq!(word(""), "");
    }
}
