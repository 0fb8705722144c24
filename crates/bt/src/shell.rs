//! Shell quoting, for the command lines bt writes (queue headers, Slurm scripts).

/// `word` as one POSIX shell word: unchanged when it holds only characters no shell splits or
/// expands (ASCII letters, digits and `- _ = . , : / + @ %`), else in single quotes.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_=.,:/+@%".contains(c));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_and_the_rest_is_quoted() {
        assert_eq!(shell_word("/opt/bt/bin/bt"), "/opt/bt/bin/bt");
        assert_eq!(shell_word("fast=5..=34"), "fast=5..=34");
        assert_eq!(shell_word("/home/a b/bt"), "'/home/a b/bt'");
        assert_eq!(shell_word("/x/it's"), r"'/x/it'\''s'");
        assert_eq!(shell_word("/x/$HOME"), "'/x/$HOME'");
        assert_eq!(shell_word("fast < slow"), "'fast < slow'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("é"), "'é'");
    }
}
