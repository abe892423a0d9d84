//! The workspace side: each person's effective role on each item, by every
//! path a role reaches a person: a grant to the member, to a team they are
//! in, to their local partner, to a partnership, on the item or on its
//! collection or any collection above it. The strongest role wins.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::workspace::{GrantTarget, Grantee, ItemRole};

use super::holdings::Holdings;

/// Who holds a role: a member, or a partnership (whose people are not
/// members of this workspace; they are matched by their email's domain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Who {
    Member(i64),
    Partnership(i64),
}

/// Owner 3, Manager 2, Collaborator 1: what "stronger" means.
pub fn rank(role: ItemRole) -> u8 {
    match role {
        ItemRole::Owner => 3,
        ItemRole::Manager => 2,
        ItemRole::Collaborator => 1,
    }
}

pub fn stronger(a: ItemRole, b: ItemRole) -> ItemRole {
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

pub type Roles = FxHashMap<Who, ItemRole>;

fn raise(roles: &mut Roles, who: Who, role: ItemRole) {
    roles.entry(who).and_modify(|r| *r = stronger(*r, role)).or_insert(role);
}

/// Effective roles, worked out once per collection.
pub struct Reach<'h> {
    holdings: &'h Holdings,
    /// Grants by what they are on, their grantee expanded to people.
    on: FxHashMap<GrantTarget, Vec<(Who, ItemRole)>>,
    collections: FxHashMap<i64, Rc<Roles>>,
}

impl<'h> Reach<'h> {
    pub fn new(holdings: &'h Holdings) -> Reach<'h> {
        let mut on: FxHashMap<GrantTarget, Vec<(Who, ItemRole)>> = FxHashMap::default();
        for g in &holdings.grants {
            let list = on.entry(g.target).or_default();
            match g.grantee {
                Grantee::Member(id) => list.push((Who::Member(id), g.role)),
                Grantee::Team(id) => {
                    for &m in holdings.teams.get(&id).into_iter().flatten() {
                        list.push((Who::Member(m), g.role));
                    }
                }
                Grantee::Partner(id) => {
                    for &m in holdings.partners.get(&id).into_iter().flatten() {
                        list.push((Who::Member(m), g.role));
                    }
                }
                Grantee::Partnership(id) => list.push((Who::Partnership(id), g.role)),
            }
        }
        Reach {
            holdings,
            on,
            collections: FxHashMap::default(),
        }
    }

    /// Whether grants are made on this item itself (not only inherited).
    pub fn has_own_grants(&self, target: GrantTarget) -> bool {
        self.on.contains_key(&target)
    }

    /// Who reaches everything in this collection, and with which role.
    pub fn collection(&mut self, id: i64) -> Rc<Roles> {
        if let Some(r) = self.collections.get(&id) {
            return Rc::clone(r);
        }
        // The chain up to the first collection already worked out (or the
        // root); a cycle, which the schema does not prevent, stops it.
        let mut chain = vec![id];
        let mut base: Option<Rc<Roles>> = None;
        let mut at = id;
        while let Some(Some(parent)) = self.holdings.collections.get(&at) {
            if let Some(r) = self.collections.get(parent) {
                base = Some(Rc::clone(r));
                break;
            }
            if chain.contains(parent) {
                break;
            }
            chain.push(*parent);
            at = *parent;
        }
        let mut roles: Roles = base.map(|b| (*b).clone()).unwrap_or_default();
        for &c in chain.iter().rev() {
            for &(who, role) in self.on.get(&GrantTarget::Collection(c)).into_iter().flatten() {
                raise(&mut roles, who, role);
            }
            self.collections.insert(c, Rc::new(roles.clone()));
        }
        self.collections.get(&id).cloned().unwrap_or_default()
    }

    /// Who reaches this item (in `collection`), and with which role.
    pub fn item(&mut self, target: GrantTarget, collection: Option<i64>) -> Rc<Roles> {
        let inherited = match collection {
            Some(c) => self.collection(c),
            None => Rc::new(Roles::default()),
        };
        match self.on.get(&target) {
            None => inherited,
            Some(own) => {
                let mut roles = (*inherited).clone();
                for &(who, role) in own {
                    raise(&mut roles, who, role);
                }
                Rc::new(roles)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::holdings::HeldGrant;

    fn grant(target: GrantTarget, grantee: Grantee, role: ItemRole) -> HeldGrant {
        HeldGrant { target, grantee, role }
    }

    #[test]
    fn roles_reach_people_through_teams_partners_partnerships_and_parent_collections() {
        let mut h = Holdings::default();
        // Collections 1 › 2 › 3; a cycle 7 ⇄ 8 that must not hang.
        h.collections
            .extend([(1, None), (2, Some(1)), (3, Some(2)), (7, Some(8)), (8, Some(7))]);
        h.teams.insert(10, vec![100, 101]);
        h.partners.insert(20, vec![200]);
        h.grants = vec![
            grant(GrantTarget::Collection(1), Grantee::Team(10), ItemRole::Collaborator),
            grant(GrantTarget::Collection(2), Grantee::Member(101), ItemRole::Owner),
            grant(GrantTarget::Collection(3), Grantee::Partner(20), ItemRole::Collaborator),
            grant(GrantTarget::Account(5), Grantee::Partnership(30), ItemRole::Manager),
            grant(GrantTarget::Collection(7), Grantee::Member(100), ItemRole::Collaborator),
        ];
        let mut reach = Reach::new(&h);
        let roles = reach.item(GrantTarget::Account(5), Some(3));
        assert_eq!(roles.get(&Who::Member(100)), Some(&ItemRole::Collaborator));
        assert_eq!(
            roles.get(&Who::Member(101)),
            Some(&ItemRole::Owner),
            "the strongest path wins"
        );
        assert_eq!(roles.get(&Who::Member(200)), Some(&ItemRole::Collaborator));
        assert_eq!(roles.get(&Who::Partnership(30)), Some(&ItemRole::Manager));
        assert_eq!(roles.len(), 4);
        assert!(reach.has_own_grants(GrantTarget::Account(5)));
        // The parent knows nothing of its child's grants.
        assert_eq!(reach.collection(1).get(&Who::Member(200)), None);
        assert_eq!(reach.item(GrantTarget::Secret(9), None).len(), 0);
        assert_eq!(
            reach.collection(8).get(&Who::Member(100)),
            Some(&ItemRole::Collaborator)
        );
    }
}
