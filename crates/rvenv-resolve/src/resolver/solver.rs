//! The PubGrub [`DependencyProvider`]: which version to try, and what a version requires.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
    PubGrubError,
};

use super::fetch::Fetcher;
use super::package::{specifier_text, Package, VersionSet};
use super::report;
use super::{
    Origin, Prereleases, RequiredBy, Resolution, ResolveError, ResolveOptions, ResolveRequest,
    ResolvedPackage,
};
use crate::types::{Candidate, Candidates, FileKind, ProviderError};

/// Why a version cannot be used, beyond what PubGrub knows itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unavailable {
    RequiresPython {
        requires: VersionSpecifiers,
        python: Version,
    },
    DirectUrl(String),
    /// The version's metadata cannot be used; pip ignores such versions too.
    InvalidMetadata(String),
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::RequiresPython { requires, python } => {
                write!(
                    f,
                    "requires Python {requires} (the target is Python {python})"
                )
            }
            Unavailable::DirectUrl(requirement) => write!(
                f,
                "requires `{requirement}`, a direct URL, which is not supported yet"
            ),
            Unavailable::InvalidMetadata(message) => {
                write!(f, "is left out because its metadata is invalid: {message}")
            }
        }
    }
}

/// One requirement the solver handed to PubGrub, kept to say why a package is installed.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    pub name: PackageName,
    pub requirement: String,
}

/// What the solver learns while it runs.
#[derive(Default)]
pub(crate) struct State {
    /// Packages some specifier of which names a pre-release.
    pub prerelease_named: HashSet<PackageName>,
    /// The order in which packages were first required (earlier is decided first).
    pub discovered: HashMap<Package, usize>,
    /// What each (package, version) required.
    pub edges: HashMap<(Package, Version), Vec<Edge>>,
    /// `candidates()` failures, reported as "no versions" with the provider's words.
    pub unavailable: HashMap<PackageName, ProviderError>,
    /// Candidates fetched so far, for messages.
    pub candidates: HashMap<PackageName, Arc<Candidates>>,
}

pub(crate) struct Solver {
    pub(crate) fetcher: Arc<Fetcher>,
    markers: MarkerEnvironment,
    python: Version,
    options: ResolveOptions,
    requirements: Vec<(Requirement, Origin)>,
    /// Per package: the intersection of its constraints and the constraints themselves.
    pub(crate) constraints: HashMap<PackageName, (VersionSet, Vec<(String, Origin)>)>,
    preferences: HashMap<PackageName, Version>,
    pub(crate) state: RefCell<State>,
}

/// An error that stops the solver (as opposed to a conflict it can backtrack from).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Fatal(Box<ResolveError>);

fn root_version() -> Version {
    Version::new([0])
}

impl Solver {
    pub(crate) fn new(
        request: &ResolveRequest,
        fetcher: Arc<Fetcher>,
        markers: &MarkerEnvironment,
        options: &ResolveOptions,
        preferences: HashMap<PackageName, Version>,
    ) -> Solver {
        let mut constraints: HashMap<PackageName, (VersionSet, Vec<(String, Origin)>)> =
            HashMap::new();
        for (constraint, origin) in &request.constraints {
            if !constraint.evaluate_markers(markers, &[]) {
                continue;
            }
            let entry = constraints
                .entry(constraint.name.clone())
                .or_insert_with(|| (VersionSet::full(), Vec::new()));
            entry.0 = entry.0.intersection(&range_of(constraint));
            entry.1.push((constraint.to_string(), origin.clone()));
        }
        let python = markers.python_full_version().version.only_release();
        Solver {
            fetcher,
            markers: markers.clone(),
            python,
            options: options.clone(),
            requirements: request.requirements.clone(),
            constraints,
            preferences,
            state: RefCell::default(),
        }
    }

    /// Runs PubGrub to the end.
    pub(crate) fn solve(self) -> Result<Resolution, ResolveError> {
        match pubgrub::resolve(&self, Package::Root, root_version()) {
            Ok(solution) => self.resolution(solution.into_iter().collect()),
            Err(PubGrubError::NoSolution(tree)) => {
                Err(ResolveError::NoSolution(report::explain(&tree, &self)))
            }
            Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
            | Err(PubGrubError::ErrorChoosingVersion { source, .. })
            | Err(PubGrubError::ErrorInShouldCancel(source)) => Err(*source.0),
        }
    }

    /// The user's requirements that apply to the target, by name.
    /// With each its position in the request.
    pub(crate) fn user_requirements(&self, name: &PackageName) -> Vec<(usize, String, &Origin)> {
        self.requirements
            .iter()
            .enumerate()
            .filter(|(_, (requirement, _))| {
                &requirement.name == name && requirement.evaluate_markers(&self.markers, &[])
            })
            .map(|(order, (requirement, origin))| (order, requirement_text(requirement), origin))
            .collect()
    }

    pub(crate) fn candidates_of(&self, name: &PackageName) -> Option<Arc<Candidates>> {
        self.state.borrow().candidates.get(name).cloned()
    }

    /// The candidates of `name`; `None` when no location has the project (the solver then
    /// explains that). Any other failure stops the resolution: resolving around a package that
    /// could not be fetched would give a wrong answer.
    fn fetch_candidates(&self, name: &PackageName) -> Result<Option<Arc<Candidates>>, Fatal> {
        if let Some(candidates) = self.candidates_of(name) {
            return Ok(Some(candidates));
        }
        match self.fetcher.wait_candidates(name) {
            Ok(candidates) => {
                let mut state = self.state.borrow_mut();
                state
                    .candidates
                    .insert(name.clone(), Arc::clone(&candidates));
                Ok(Some(candidates))
            }
            Err(err) if err.is_not_found() => {
                self.state
                    .borrow_mut()
                    .unavailable
                    .insert(name.clone(), err);
                Ok(None)
            }
            Err(source) => Err(Fatal(Box::new(ResolveError::Versions {
                name: name.clone(),
                source,
            }))),
        }
    }

    fn candidate(&self, name: &PackageName, version: &Version) -> Result<Option<Candidate>, Fatal> {
        Ok(self.fetch_candidates(name)?.and_then(|candidates| {
            candidates
                .versions
                .iter()
                .find(|candidate| &candidate.version == version)
                .cloned()
        }))
    }

    /// The versions of `name` that may be picked within `range`: inside the constraints, not
    /// yanked unless all of them are. Newest first.
    pub(crate) fn allowed<'c>(
        &self,
        name: &PackageName,
        range: &VersionSet,
        candidates: &'c Candidates,
    ) -> Vec<&'c Candidate> {
        let constraint = self.constraints.get(name).map(|(range, _)| range);
        let pool: Vec<&Candidate> = candidates
            .versions
            .iter()
            .filter(|candidate| range.contains(&candidate.version))
            .filter(|candidate| constraint.is_none_or(|c| c.contains(&candidate.version)))
            .collect();
        if pool.iter().all(|candidate| candidate.is_yanked()) {
            return pool;
        }
        pool.into_iter()
            .filter(|candidate| !candidate.is_yanked())
            .collect()
    }

    /// pip's choice among allowed versions: the installed one, else the newest final release
    /// (or the newest of all when pre-releases are allowed for it), else the newest pre-release.
    /// With `--prefer-binary`, the newest of those with a wheel comes before a newer sdist.
    fn pick<'c>(&self, name: &PackageName, allowed: &[&'c Candidate]) -> Option<&'c Candidate> {
        if let Some(preferred) = self.preferences.get(name) {
            if let Some(candidate) = allowed.iter().find(|c| &c.version == preferred) {
                return Some(candidate);
            }
        }
        let prereleases = self.options.prereleases == Prereleases::Allow
            || self.state.borrow().prerelease_named.contains(name);
        let finals: Vec<&Candidate> = allowed
            .iter()
            .filter(|candidate| !candidate.version.any_prerelease())
            .copied()
            .collect();
        let eligible = if prereleases || finals.is_empty() {
            allowed
        } else {
            &finals
        };
        if self.options.prefer_binary {
            if let Some(wheel) = eligible.iter().find(|c| c.file.kind == FileKind::Wheel) {
                return Some(wheel);
            }
        }
        eligible.first().copied()
    }

    /// Adds `requirement` (as `name` and each `name[extra]`) to `dependencies`.
    fn add_requirement(
        self: &Solver,
        requirement: &Requirement,
        dependencies: &mut BTreeMap<Package, VersionSet>,
        edges: &mut Vec<Edge>,
    ) {
        let range = range_of(requirement);
        let mut state = self.state.borrow_mut();
        if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &requirement.version_or_url {
            if specifiers.iter().any(|s| s.version().any_prerelease()) {
                state.prerelease_named.insert(requirement.name.clone());
            }
        }
        let mut packages = vec![Package::Name(requirement.name.clone())];
        if !self.options.no_deps {
            packages.extend(
                requirement
                    .extras
                    .iter()
                    .map(|extra| Package::Extra(requirement.name.clone(), extra.clone())),
            );
        }
        for package in packages {
            let next = state.discovered.len();
            state.discovered.entry(package.clone()).or_insert(next);
            dependencies
                .entry(package)
                .and_modify(|existing| *existing = existing.intersection(&range))
                .or_insert_with(|| range.clone());
        }
        edges.push(Edge {
            name: requirement.name.clone(),
            requirement: requirement_text(requirement),
        });
        drop(state);
        let specifiers = match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => Some(specifiers),
            _ => None,
        };
        self.fetcher.prefetch(&requirement.name, specifiers);
    }

    fn dependencies_of(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Dependencies<Package, VersionSet, Unavailable>, Fatal> {
        let mut dependencies = BTreeMap::new();
        let mut edges = Vec::new();
        let (name, extra) = match package {
            Package::Root => {
                for (requirement, _) in &self.requirements {
                    if requirement.evaluate_markers(&self.markers, &[]) {
                        self.add_requirement(requirement, &mut dependencies, &mut edges);
                    }
                }
                return Ok(self.finish(package, version, dependencies, edges));
            }
            Package::Name(name) => (name, None),
            Package::Extra(name, extra) => (name, Some(extra)),
        };
        let Some(candidate) = self.candidate(name, version)? else {
            return Err(internal(format!(
                "{name} {version} was chosen but is not a candidate"
            )));
        };
        let metadata = match self.fetcher.wait_metadata(&candidate) {
            Ok(metadata) => metadata,
            Err(source) if source.is_invalid_metadata() => {
                return Ok(Dependencies::Unavailable(Unavailable::InvalidMetadata(
                    source.to_string(),
                )));
            }
            Err(source) => {
                return Err(Fatal(Box::new(ResolveError::Metadata {
                    name: name.clone(),
                    version: version.clone(),
                    source,
                })))
            }
        };
        if let Some(requires) = &metadata.requires_python {
            if !requires.contains(&self.python) {
                return Ok(Dependencies::Unavailable(Unavailable::RequiresPython {
                    requires: requires.clone(),
                    python: self.python.clone(),
                }));
            }
        }
        if let Some(extra) = extra {
            // The extra stands for its base at the same version.
            dependencies.insert(
                Package::Name(name.clone()),
                VersionSet::singleton(version.clone()),
            );
            if self.options.no_deps {
                return Ok(self.finish(package, version, dependencies, edges));
            }
            let extras = std::slice::from_ref(extra);
            for requirement in &metadata.requires_dist {
                if requirement.evaluate_markers(&self.markers, extras)
                    && !requirement.evaluate_markers(&self.markers, &[])
                {
                    if let Some(VersionOrUrl::Url(_)) = requirement.version_or_url {
                        return Ok(Dependencies::Unavailable(Unavailable::DirectUrl(
                            requirement.to_string(),
                        )));
                    }
                    self.add_requirement(requirement, &mut dependencies, &mut edges);
                }
            }
        } else if !self.options.no_deps {
            for requirement in &metadata.requires_dist {
                if !requirement.evaluate_markers(&self.markers, &[]) {
                    continue;
                }
                if let Some(VersionOrUrl::Url(_)) = requirement.version_or_url {
                    return Ok(Dependencies::Unavailable(Unavailable::DirectUrl(
                        requirement.to_string(),
                    )));
                }
                // A package requiring itself adds nothing (its extras are handled as packages).
                if &requirement.name == name && requirement.extras.is_empty() {
                    continue;
                }
                self.add_requirement(requirement, &mut dependencies, &mut edges);
            }
        }
        Ok(self.finish(package, version, dependencies, edges))
    }

    fn finish(
        &self,
        package: &Package,
        version: &Version,
        dependencies: BTreeMap<Package, VersionSet>,
        edges: Vec<Edge>,
    ) -> Dependencies<Package, VersionSet, Unavailable> {
        self.state
            .borrow_mut()
            .edges
            .insert((package.clone(), version.clone()), edges);
        let dependencies: DependencyConstraints<Package, VersionSet> =
            dependencies.into_iter().collect();
        Dependencies::Available(dependencies)
    }

    /// The solution as a [`Resolution`], with who required what.
    fn resolution(&self, solution: BTreeMap<Package, Version>) -> Result<Resolution, ResolveError> {
        let mut extras: BTreeMap<&PackageName, BTreeSet<ExtraName>> = BTreeMap::new();
        for package in solution.keys() {
            if let Package::Extra(name, extra) = package {
                extras.entry(name).or_default().insert(extra.clone());
            }
        }
        let mut required_by: HashMap<PackageName, BTreeSet<RequiredBy>> = HashMap::new();
        let state = self.state.borrow();
        for (package, version) in &solution {
            let Some(edges) = state.edges.get(&(package.clone(), version.clone())) else {
                continue;
            };
            for edge in edges {
                let requirer = match package {
                    Package::Root => continue,
                    Package::Name(name) | Package::Extra(name, _) => RequiredBy::Package {
                        name: name.clone(),
                        version: version.clone(),
                        extra: match package {
                            Package::Extra(_, extra) => Some(extra.clone()),
                            _ => None,
                        },
                        requirement: edge.requirement.clone(),
                    },
                };
                required_by
                    .entry(edge.name.clone())
                    .or_default()
                    .insert(requirer);
            }
        }
        drop(state);
        for (requirement, origin) in &self.requirements {
            if requirement.evaluate_markers(&self.markers, &[]) {
                required_by
                    .entry(requirement.name.clone())
                    .or_default()
                    .insert(RequiredBy::User {
                        requirement: requirement_text(requirement),
                        origin: origin.clone(),
                    });
            }
        }
        let mut packages = Vec::new();
        for (package, version) in &solution {
            let Package::Name(name) = package else {
                continue;
            };
            let candidate = self
                .candidate(name, version)
                .map_err(|fatal| *fatal.0)?
                .ok_or_else(|| ResolveError::Internal(format!("{name} {version} has no file")))?;
            let required_by: Vec<RequiredBy> = required_by
                .remove(name)
                .unwrap_or_default()
                .into_iter()
                .collect();
            packages.push(ResolvedPackage {
                name: name.clone(),
                version: version.clone(),
                candidate,
                requested: required_by
                    .iter()
                    .any(|requirer| matches!(requirer, RequiredBy::User { .. })),
                extras: extras
                    .remove(name)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                required_by,
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Resolution { packages })
    }
}

fn internal(message: String) -> Fatal {
    Fatal(Box::new(ResolveError::Internal(message)))
}

/// The versions a requirement allows (every version when it names none).
pub(crate) fn range_of(requirement: &Requirement) -> VersionSet {
    match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => VersionSet::from(specifiers.clone()),
        _ => VersionSet::full(),
    }
}

/// `name[extras]specifiers`, without markers (they have been evaluated already).
pub(crate) fn requirement_text(requirement: &Requirement) -> String {
    let mut text = requirement.name.to_string();
    if !requirement.extras.is_empty() {
        let extras: Vec<String> = requirement.extras.iter().map(ToString::to_string).collect();
        text.push_str(&format!("[{}]", extras.join(",")));
    }
    text.push_str(&specifier_text(&range_of(requirement)));
    text
}

impl DependencyProvider for Solver {
    type P = Package;
    type V = Version;
    type VS = VersionSet;
    type M = Unavailable;
    /// Decided first: exact pins, then packages in many conflicts, then in discovery order.
    type Priority = (bool, u32, Reverse<usize>);
    type Err = Fatal;

    fn prioritize(
        &self,
        package: &Package,
        range: &VersionSet,
        statistics: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let discovered = match package {
            Package::Root => 0,
            _ => self
                .state
                .borrow()
                .discovered
                .get(package)
                .copied()
                .unwrap_or(usize::MAX),
        };
        (
            range.as_singleton().is_some(),
            statistics.conflict_count(),
            Reverse(discovered),
        )
    }

    fn choose_version(
        &self,
        package: &Package,
        range: &VersionSet,
    ) -> Result<Option<Version>, Fatal> {
        let Some(name) = package.name() else {
            return Ok(Some(root_version()).filter(|root| range.contains(root)));
        };
        let Some(candidates) = self.fetch_candidates(name)? else {
            return Ok(None);
        };
        let allowed = self.allowed(name, range, &candidates);
        Ok(self
            .pick(name, &allowed)
            .map(|candidate| candidate.version.clone()))
    }

    fn get_dependencies(
        &self,
        package: &Package,
        version: &Version,
    ) -> Result<Dependencies<Package, VersionSet, Unavailable>, Fatal> {
        self.dependencies_of(package, version)
    }
}
