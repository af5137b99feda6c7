//! The two languages people read mieruka in: 日本語 and English. [`Lang`] picks one;
//! [`Text`] is a piece of user-facing text written in both, as dashboard files carry it;
//! [`Lang::negotiate`] reads a browser's `Accept-Language`.

use serde::Deserialize;

/// A language of the user interface, the sheets and the charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// 日本語.
    Ja,
    /// English.
    En,
}

impl Lang {
    /// Both, in the order a language switch lists them.
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    /// `ja` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The language's own name: `日本語`, `English`.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Ja => "日本語",
            Lang::En => "English",
        }
    }

    /// `ja` or `en` (exactly; a user typed it, so nothing is guessed).
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `ja` in Japanese, `en` in English.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// The language an `Accept-Language` header prefers among ours: the one with the
    /// highest quality (`ja-JP`, `ja` count as ja; `en-US`, `en` as en; the first listed
    /// wins a tie), or `None` when it names neither (or only with `q=0`). Malformed entries
    /// are skipped, never an error: the header is a hint.
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for entry in accept_language.split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Lang::ALL
                .into_iter()
                .find(|l| primary.eq_ignore_ascii_case(l.code()))
            else {
                continue;
            };
            let mut q = 1.0_f32;
            for p in parts {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }
}

/// User-facing text in both languages: in a dashboard file,
/// `title = { ja = "製品のホットスポット", en = "Product hotspots" }`. Both are required, so a
/// file that forgets one does not load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// 日本語.
    pub ja: String,
    /// English.
    pub en: String,
}

impl Text {
    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.ja, &self.en)
    }

    /// Whether both languages are empty (an optional label left out).
    pub fn is_empty(&self) -> bool {
        self.ja.is_empty() && self.en.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_ours() {
        for (header, want) in [
            ("ja", Some(Lang::Ja)),
            ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", Some(Lang::Ja)),
            ("en-US,en;q=0.9,ja;q=0.8", Some(Lang::En)),
            ("fr-FR,fr;q=0.9,ja;q=0.5,en;q=0.4", Some(Lang::Ja)),
            ("en;q=0.5, ja;q=0.6", Some(Lang::Ja)),
            // A tie goes to the first listed.
            ("en, ja", Some(Lang::En)),
            ("JA-jp", Some(Lang::Ja)),
            ("fr, de", None),
            ("*", None),
            ("ja;q=0, en;q=0", None),
            ("", None),
            // Junk is skipped, not an error.
            (";;,q=,ja;q=abc,en;q=0.1", Some(Lang::En)),
        ] {
            assert_eq!(Lang::negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn text_needs_both_languages() {
        #[derive(Deserialize)]
        struct Doc {
            #[allow(dead_code)]
            title: Text,
        }
        assert!(toml::from_str::<Doc>(r#"title = { ja = "題", en = "Title" }"#).is_ok());
        let e = toml::from_str::<Doc>(r#"title = { en = "Title" }"#)
            .err()
            .expect("ja missing");
        assert!(e.message().contains("missing field `ja`"), "{e}");
        assert!(toml::from_str::<Doc>(r#"title = "Title""#).is_err());
    }
}
