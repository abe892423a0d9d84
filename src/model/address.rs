//! Whether a sharer's address may become an invitation's `To:`.
//!
//! Sharing files are written by hand or by scripts as often as by the
//! vendor, so an "address" is only text: `evil<img src=x onerror=…>@x.example`
//! reached the outbox as a recipient and the reports as markup. An address
//! is accepted only as a plain RFC 5322 addr-spec: a dot-atom local part
//! (a quoted one may hold `<`, spaces and quotes, and no real mailbox we
//! import uses it), a domain name with at least two labels (no domain
//! literal, no display text such as `Name <a@b>`).

use email_address::{EmailAddress, Options};

/// Sharing data can name a user by login name alone (old LastPass
/// accounts); those have no `@` and are reported as not being addresses at
/// all. This is for text that claims to be one.
pub fn is_mailbox(address: &str) -> bool {
    let options = Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: false,
        allow_long_local_parts: false,
    };
    !address.contains('"') && address.is_ascii() && EmailAddress::parse_with_options(address, options).is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_mailbox;

    #[test]
    fn plain_addresses_pass_and_markup_does_not() {
        for ok in [
            "alex@partner.example",
            "a.b+tag@mail.partner.example",
            "o'neil@x.example",
        ] {
            assert!(is_mailbox(ok), "{ok}");
        }
        for bad in [
            "evil<img src=x onerror=alert(1)>@partner.example",
            "Alex <alex@partner.example>",
            "\"a<b>\"@partner.example",
            "alex@[127.0.0.1]",
            "alex@localhost",
            "alex@partner.example\r\nBcc: all@x.example",
            "a@@partner.example",
            "",
        ] {
            assert!(!is_mailbox(bad), "{bad:?}");
        }
    }
}
