//! The generator's adversarial mode: the shapes of real exports that broke
//! the mapping (issue 19), each knob on its own so a test can switch on
//! exactly the ones a build survives.

/// Which adversarial shapes to generate. All off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Adversarial {
    /// A personal folder named like a shared folder (`Legal` and
    /// `Shared-Legal`; LastPass only: the other formats have no prefix).
    pub same_name: bool,
    /// Folder names holding the path separator or differing only in case
    /// (`Tools/Build` beside `Tools` › `Build`; shared `Web` and `WEB`).
    pub separators: bool,
    /// Two different entries with one source id (a LastPass `id` column,
    /// a 1Password uuid), every 50th entry.
    pub duplicate_ids: bool,
    /// Every group holds an outside person and an ex-employee (inside the
    /// company's domain, not a workspace member).
    pub group_outsiders: bool,
    /// Groups are named like the sample workspace's existing teams
    /// (`Engineering`, `Finance`) instead of `<folder> team`.
    pub existing_teams: bool,
    /// Sharing that overlaps: a person shared a folder directly and again
    /// through a group with another right, and folders three deep inside
    /// shared folders.
    pub nested_sharing: bool,
}

/// The knobs by name, as `--adversarial` takes them.
pub const KNOBS: [&str; 6] = [
    "same-name",
    "separators",
    "duplicate-ids",
    "group-outsiders",
    "existing-teams",
    "nested-sharing",
];

impl Adversarial {
    pub fn all() -> Adversarial {
        Adversarial {
            same_name: true,
            separators: true,
            duplicate_ids: true,
            group_outsiders: true,
            existing_teams: true,
            nested_sharing: true,
        }
    }

    pub fn any(&self) -> bool {
        *self != Adversarial::default()
    }

    /// `all`, or knob names separated by commas (`same-name,separators`).
    pub fn parse(list: &str) -> Result<Adversarial, String> {
        let mut a = Adversarial::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "all" => a = Adversarial::all(),
                "same-name" => a.same_name = true,
                "separators" => a.separators = true,
                "duplicate-ids" => a.duplicate_ids = true,
                "group-outsiders" => a.group_outsiders = true,
                "existing-teams" => a.existing_teams = true,
                "nested-sharing" => a.nested_sharing = true,
                other => {
                    return Err(format!(
                        "unknown adversarial knob '{other}'; expected 'all' or some of {}",
                        KNOBS.join(", ")
                    ))
                }
            }
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_are_named_one_by_one_or_all_and_a_misspelt_one_is_refused() {
        assert_eq!(Adversarial::parse("all").unwrap(), Adversarial::all());
        let a = Adversarial::parse("same-name, duplicate-ids").unwrap();
        assert!(a.same_name && a.duplicate_ids && !a.separators && a.any());
        assert!(!Adversarial::parse("").unwrap().any());
        let e = Adversarial::parse("same-names").unwrap_err();
        assert!(e.contains("same-names") && e.contains("nested-sharing"), "{e}");
    }
}
