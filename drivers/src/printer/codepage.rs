//! Character code pages for ESC/POS text: Unicode <-> the printer's single-byte pages.
//!
//! The same page has different `ESC t n` numbers on different printer families (CP866 is 17 on
//! Epson, 7 on Citizen and Rongta, 10 on Star), so the number always comes from configuration;
//! [`Family`] holds the tables the virtual printer uses to interpret `ESC t n`.

use std::sync::LazyLock;

/// A single-byte code page. Bytes 0x20..0x7F are ASCII in all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePage {
    Pc437,
    Pc866,
    Wpc1251,
    /// Epson's page 1: block and box-drawing elements, half-width katakana. Never chosen for
    /// tickets; peers (receiptline) switch to it to draw table rules, so the virtual printer
    /// must read it.
    Katakana,
}

const PC437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";
const PC866_HIGH: &str = "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмноп░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀рстуфхцчшщъыьэюяЁёЄєЇїЎў°∙·√№¤■\u{a0}";
const WPC1251_HIGH: &str = "ЂЃ‚ѓ„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—\u{fffd}™љ›њќћџ\u{a0}ЎўЈ¤Ґ¦§Ё©Є«¬\u{ad}®Ї°±Ііґµ¶·ё№є»јЅѕїАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя";

const KATAKANA_HIGH: &str =
    "▁▂▃▄▅▆▇█▏▎▍▌▋▊▉┼┴┬┤├▔─│▕┌┐└┘╭╮╰╯\u{a0}｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ";

fn table(s: &'static str) -> [char; 128] {
    let mut t = ['?'; 128];
    for (slot, c) in t.iter_mut().zip(s.chars()) {
        *slot = c;
    }
    t
}

static TABLES: LazyLock<[[char; 128]; 4]> =
    LazyLock::new(|| [table(PC437_HIGH), table(PC866_HIGH), table(WPC1251_HIGH), table(KATAKANA_HIGH)]);

impl CodePage {
    fn high(self) -> &'static [char; 128] {
        &TABLES[self as usize]
    }

    /// The byte for `c`, if this page has it.
    pub fn encode_char(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return Some(c as u8);
        }
        self.high().iter().position(|&h| h == c && h != '\u{fffd}').map(|p| 0x80 + p as u8)
    }

    /// Encodes text, replacing what the page lacks: typographic quotes and dashes by their ASCII
    /// cousins, anything else by `?`.
    pub fn encode(self, s: &str) -> Vec<u8> {
        s.chars()
            .map(|c| {
                self.encode_char(c).unwrap_or(match c {
                    '«' | '»' | '“' | '”' | '„' => b'"',
                    '‘' | '’' => b'\'',
                    '–' | '—' | '−' => b'-',
                    '\u{a0}' => b' ',
                    _ => b'?',
                })
            })
            .collect()
    }

    /// Whether every character of `s` has a byte in this page (else: raster fallback).
    pub fn covers(self, s: &str) -> bool {
        s.chars().all(|c| self.encode_char(c).is_some())
    }

    /// The character a printed byte shows.
    pub fn decode_byte(self, b: u8) -> char {
        match b {
            0x20..=0x7E => b as char,
            0x80..=0xFF => self.high()[usize::from(b - 0x80)],
            _ => '?',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CodePage::Pc437 => "PC437",
            CodePage::Pc866 => "PC866",
            CodePage::Wpc1251 => "WPC1251",
            CodePage::Katakana => "Katakana",
        }
    }
}

/// Printer families, by how they number code pages in `ESC t n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Epson and most clones: 0 PC437, 17 PC866, 46 WPC1251.
    #[default]
    Epson,
    /// Citizen, Rongta: 7 PC866.
    Citizen,
    /// Star in ESC/POS mode: 10 PC866.
    Star,
}

impl Family {
    pub fn parse(s: &str) -> Option<Family> {
        match s.to_ascii_lowercase().as_str() {
            "epson" => Some(Family::Epson),
            "citizen" | "rongta" => Some(Family::Citizen),
            "star" => Some(Family::Star),
            _ => None,
        }
    }

    /// What `ESC t n` selects on this family; `None` for numbers it does not have here.
    pub fn page(self, n: u8) -> Option<CodePage> {
        match (self, n) {
            (_, 0) => Some(CodePage::Pc437),
            (Family::Epson | Family::Citizen, 1) => Some(CodePage::Katakana),
            (Family::Epson, 17) | (Family::Citizen, 7) | (Family::Star, 10) => Some(CodePage::Pc866),
            (Family::Epson, 46) => Some(CodePage::Wpc1251),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_round_trips_in_both_pages() {
        let text = "Дежурный врач № 5, Ёлкина Щ. Ъ.";
        for page in [CodePage::Pc866, CodePage::Wpc1251] {
            assert!(page.covers(text), "{page:?}");
            let bytes = page.encode(text);
            let back: String = bytes.iter().map(|&b| page.decode_byte(b)).collect();
            assert_eq!(back, text);
        }
        assert_eq!(CodePage::Pc866.encode("№"), [0xFC]);
        assert_eq!(CodePage::Wpc1251.encode("№"), [0xB9]);
        assert_eq!(CodePage::Pc866.encode("А"), [0x80]);
        assert_eq!(CodePage::Wpc1251.encode("А"), [0xC0]);
        assert!(!CodePage::Pc437.covers("Д"));
        assert_eq!(CodePage::Pc866.encode("«€»"), b"\"?\"");
    }

    #[test]
    fn families_number_pages_differently() {
        assert_eq!(Family::Epson.page(17), Some(CodePage::Pc866));
        assert_eq!(Family::Citizen.page(7), Some(CodePage::Pc866));
        assert_eq!(Family::Star.page(10), Some(CodePage::Pc866));
        assert_eq!(Family::Star.page(17), None);
        // Table rules as receiptline draws them: ESC t 1, then 0x9C 0x95 0x91 0x9D.
        let rule: String =
            [0x9C, 0x95, 0x91, 0x9D].iter().map(|&b| CodePage::Katakana.decode_byte(b)).collect();
        assert_eq!(rule, "╭─┬╮");
    }
}
