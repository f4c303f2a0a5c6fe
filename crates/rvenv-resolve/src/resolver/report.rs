//! Why there is no solution, as facts a person can act on.
//!
//! PubGrub proves a conflict with a derivation tree whose leaves are plain facts: "you asked for
//! X", "A 1.0 requires B<2", "no version of B matches >=3". The explanation lists those facts
//! once each, in the order of the proof, phrased with the user's own requirement lines and the
//! versions that exist.

use std::collections::HashSet;

use pep440_rs::Version;
use pep508_rs::PackageName;
use pubgrub::{DerivationTree, External};

use super::package::{specifier_text, Package, VersionSet};
use super::solver::{Solver, Unavailable};
use crate::types::Candidates;

type Tree = DerivationTree<Package, VersionSet, Unavailable>;

/// One leaf of the proof, phrased.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fact {
    /// "you asked for X (file:line)"; `order` is the requirement's position.
    Asked {
        name: PackageName,
        order: usize,
        text: String,
    },
    /// "A 1.0 requires B<2".
    Requires {
        from: PackageName,
        to: PackageName,
        text: String,
    },
    /// Something about the versions of one package: none match, none found, wrong Python.
    About {
        name: PackageName,
        text: String,
        /// Only says that nothing exists in a range PubGrub carved out; implied by the other
        /// facts about the same package, so left out when there are some.
        bare: bool,
    },
}

/// The facts that make the requirements unsatisfiable, one per line, as a chain: each thing you
/// asked for, then what it requires, then what is wrong with that, and so on.
pub(crate) fn explain(tree: &Tree, solver: &Solver) -> String {
    let mut facts = Vec::new();
    collect(tree, solver, &mut facts);
    // Drop bare "nothing in this range" facts when the package has others that explain more.
    let explained: HashSet<PackageName> = facts
        .iter()
        .filter_map(|fact| match fact {
            Fact::About {
                name, bare: false, ..
            }
            | Fact::Requires { from: name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    facts.retain(
        |fact| !matches!(fact, Fact::About { name, bare: true, .. } if explained.contains(name)),
    );

    let mut ordered: Vec<&Fact> = Vec::new();
    let mut visited = HashSet::new();
    let mut asked: Vec<&Fact> = facts
        .iter()
        .filter(|f| matches!(f, Fact::Asked { .. }))
        .collect();
    asked.sort_by_key(|fact| match fact {
        Fact::Asked { order, .. } => *order,
        _ => usize::MAX,
    });
    for fact in asked {
        push(fact, &mut ordered);
        if let Fact::Asked { name, .. } = fact {
            follow(name, &facts, &mut visited, &mut ordered);
        }
    }
    for fact in &facts {
        push(fact, &mut ordered);
    }
    if ordered.is_empty() {
        // Should not happen: every proof has facts. Fall back to PubGrub's own wording.
        use pubgrub::{DefaultStringReporter, Reporter};
        return DefaultStringReporter::report(tree);
    }
    ordered
        .iter()
        .map(|fact| match fact {
            Fact::Asked { text, .. } | Fact::Requires { text, .. } | Fact::About { text, .. } => {
                format!("  - {text}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn push<'f>(fact: &'f Fact, ordered: &mut Vec<&'f Fact>) {
    if !ordered.contains(&fact) {
        ordered.push(fact);
    }
}

/// The facts about `name`, then what it requires, depth first.
fn follow<'f>(
    name: &PackageName,
    facts: &'f [Fact],
    visited: &mut HashSet<PackageName>,
    ordered: &mut Vec<&'f Fact>,
) {
    if !visited.insert(name.clone()) {
        return;
    }
    for fact in facts {
        if matches!(fact, Fact::About { name: about, .. } if about == name) {
            push(fact, ordered);
        }
    }
    for fact in facts {
        if let Fact::Requires { from, to, .. } = fact {
            if from == name {
                push(fact, ordered);
                follow(to, facts, visited, ordered);
            }
        }
    }
}

fn collect(tree: &Tree, solver: &Solver, facts: &mut Vec<Fact>) {
    match tree {
        DerivationTree::Derived(derived) => {
            collect(&derived.cause1, solver, facts);
            collect(&derived.cause2, solver, facts);
        }
        DerivationTree::External(external) => {
            for fact in describe(external, solver) {
                if !facts.contains(&fact) {
                    facts.push(fact);
                }
            }
        }
    }
}

fn describe(external: &External<Package, VersionSet, Unavailable>, solver: &Solver) -> Vec<Fact> {
    match external {
        External::NotRoot(..) => vec![],
        External::FromDependencyOf(Package::Root, _, dependency, _) => {
            let Some(name) = dependency.name() else {
                return vec![];
            };
            solver
                .user_requirements(name)
                .into_iter()
                .map(|(order, requirement, origin)| Fact::Asked {
                    name: name.clone(),
                    order,
                    text: format!("you asked for {requirement} ({origin})"),
                })
                .collect()
        }
        External::FromDependencyOf(package, range, dependency, dependency_range) => {
            let (Some(from), Some(to)) = (package.name(), dependency.name()) else {
                return vec![];
            };
            // An extra's link to its own base is how extras work, not a fact worth stating.
            if from == to && matches!(dependency, Package::Name(_)) {
                return vec![];
            }
            vec![Fact::Requires {
                from: from.clone(),
                to: to.clone(),
                text: format!(
                    "{} {} {dependency}{}",
                    versions_text(package, range, solver),
                    verb(package, range, solver),
                    specifier_text(dependency_range)
                ),
            }]
        }
        External::NoVersions(package, range) => {
            let Some(name) = package.name() else {
                return vec![];
            };
            let (text, bare) = no_versions(name, range, solver);
            vec![Fact::About {
                name: name.clone(),
                text,
                bare,
            }]
        }
        External::Custom(package, range, reason) => {
            let Some(name) = package.name() else {
                return vec![];
            };
            vec![Fact::About {
                name: name.clone(),
                text: format!("{} {reason}", versions_text(package, range, solver)),
                bare: false,
            }]
        }
    }
}

/// The versions of `package` in `range` that exist: `fastapi 0.110.0`, `fastapi 0.100.0 to
/// 0.110.0`, `every version of fastapi`.
fn versions_text(package: &Package, range: &VersionSet, solver: &Solver) -> String {
    let Some(name) = package.name() else {
        return package.to_string();
    };
    let Some(candidates) = solver.candidates_of(name) else {
        return format!("{package}{}", specifier_text(range));
    };
    let inside = versions_in(&candidates, range);
    match inside.as_slice() {
        [] => format!("{package}{}", specifier_text(range)),
        [version] => format!("{package} {version}"),
        [newest, .., oldest] if inside.len() == candidates.versions.len() => {
            format!("every version of {package} ({oldest} to {newest})")
        }
        [newest, .., oldest] => format!("{package} {oldest} to {newest}"),
    }
}

/// "requires" after one version or "every version of", "require" after a span of versions.
fn verb(package: &Package, range: &VersionSet, solver: &Solver) -> &'static str {
    let Some(candidates) = package.name().and_then(|name| solver.candidates_of(name)) else {
        return "requires";
    };
    let inside = versions_in(&candidates, range).len();
    if inside <= 1 || inside == candidates.versions.len() {
        "requires"
    } else {
        "require"
    }
}

fn versions_in<'c>(candidates: &'c Candidates, range: &VersionSet) -> Vec<&'c Version> {
    candidates
        .versions
        .iter()
        .map(|candidate| &candidate.version)
        .filter(|version| range.contains(version))
        .collect()
}

/// Why no version of `package` in `range` can be picked: not found, nothing matches (with what
/// exists), excluded by a constraint, or no file for the target.
fn no_versions(name: &PackageName, range: &VersionSet, solver: &Solver) -> (String, bool) {
    if let Some(err) = solver.state.borrow().unavailable.get(name) {
        return (format!("{name}: {err}"), false);
    }
    let Some(candidates) = solver.candidates_of(name) else {
        return (
            format!("no version of {name} matches {}", specifier_text(range)),
            true,
        );
    };
    if candidates.versions.is_empty() && candidates.unusable.is_empty() {
        return (
            format!("package {name} was not found (the index lists no files for it)"),
            false,
        );
    }
    let wanted = if range == &VersionSet::full() {
        format!("no version of {name} can be used")
    } else {
        format!("no version of {name} matches {}", specifier_text(range))
    };
    let mut details = Vec::new();
    let in_range = versions_in(&candidates, range);
    if let (Some(newest), Some((constraint, constraints))) =
        (in_range.first(), solver.constraints.get(name))
    {
        if !constraint.contains(newest) {
            let constraints: Vec<String> = constraints
                .iter()
                .map(|(text, origin)| format!("{text} ({origin})"))
                .collect();
            details.push(format!(
                "the constraint {} excludes {}",
                constraints.join(", "),
                list(&in_range)
            ));
        }
    }
    let unusable: Vec<&(Version, String)> = candidates
        .unusable
        .iter()
        .filter(|(version, _)| range.contains(version))
        .collect();
    let mut bare = false;
    if let Some((_, reason)) = unusable.first() {
        details.push(reason.clone());
        match candidates.versions.first() {
            Some(newest) => {
                details.push(format!("the newest usable version is {}", newest.version))
            }
            None => details.push("no version has a usable file".to_string()),
        }
    } else if in_range.is_empty() {
        let available: Vec<&Version> = candidates.versions.iter().map(|c| &c.version).collect();
        details.push(format!("available: {}", list(&available)));
        bare = true;
    }
    if details.is_empty() {
        (wanted, bare)
    } else {
        (format!("{wanted}: {}", details.join("; ")), bare)
    }
}

/// Up to six versions, newest first, then how many more.
fn list(versions: &[&Version]) -> String {
    if versions.is_empty() {
        return "none".to_string();
    }
    let shown: Vec<String> = versions.iter().take(6).map(ToString::to_string).collect();
    match versions.len().saturating_sub(6) {
        0 => shown.join(", "),
        more => format!("{} and {more} older", shown.join(", ")),
    }
}
