//! The resolver against an in-memory index.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, PackageName, Requirement};

use super::*;
use crate::types::{Candidates, CoreMetadata, DistFile, FileKind};

/// One release in the fake index.
#[derive(Clone)]
struct Release {
    version: Version,
    requires_dist: Vec<Requirement>,
    requires_python: Option<VersionSpecifiers>,
    yanked: bool,
    /// Served as a wheel (else as an sdist).
    wheel: bool,
}

/// A [`Provider`] over a map, with a delay per request and a count of requests in flight.
#[derive(Default)]
struct FakeIndex {
    releases: Mutex<HashMap<PackageName, Vec<Release>>>,
    unusable: Mutex<HashMap<PackageName, Vec<(Version, String)>>>,
    /// Projects whose page fails as a network error would (not "not found").
    broken: Mutex<Vec<PackageName>>,
    /// Releases whose metadata is invalid (it does not parse).
    invalid_metadata: Mutex<Vec<(PackageName, Version)>>,
    delay: Duration,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    requests: AtomicUsize,
    /// What `remember` kept, by roots.
    remembered: Mutex<HashMap<Vec<PackageName>, Vec<PackageName>>>,
    /// Whether `keep_resolution` keeps anything (and `kept_resolution` gives it back).
    keeps_resolutions: bool,
    /// What `keep_resolution` kept, by request: the projects consulted and the resolution.
    kept: Mutex<HashMap<String, (Vec<PackageName>, Resolution)>>,
}

fn name(s: &str) -> PackageName {
    PackageName::from_str(s).unwrap()
}

fn version(s: &str) -> Version {
    Version::from_str(s).unwrap()
}

impl FakeIndex {
    fn new() -> FakeIndex {
        FakeIndex::default()
    }

    fn with_delay(delay: Duration) -> FakeIndex {
        FakeIndex {
            delay,
            ..FakeIndex::default()
        }
    }

    fn add(&self, package: &str, v: &str, requires: &[&str]) -> &Self {
        self.add_release(package, v, requires, None, false)
    }

    fn add_release(
        &self,
        package: &str,
        v: &str,
        requires: &[&str],
        requires_python: Option<&str>,
        yanked: bool,
    ) -> &Self {
        let release = Release {
            version: version(v),
            requires_dist: requires
                .iter()
                .map(|r| Requirement::from_str(r).unwrap())
                .collect(),
            requires_python: requires_python.map(|r| VersionSpecifiers::from_str(r).unwrap()),
            yanked,
            wheel: false,
        };
        let mut releases = self.releases.lock().unwrap();
        let versions = releases.entry(name(package)).or_default();
        versions.push(release);
        versions.sort_by(|a, b| b.version.cmp(&a.version));
        self
    }

    fn add_wheel(&self, package: &str, v: &str) -> &Self {
        self.add(package, v, &[]);
        let mut releases = self.releases.lock().unwrap();
        for release in releases.get_mut(&name(package)).unwrap() {
            if release.version == version(v) {
                release.wheel = true;
            }
        }
        drop(releases);
        self
    }

    fn add_unusable(&self, package: &str, v: &str, reason: &str) -> &Self {
        self.unusable
            .lock()
            .unwrap()
            .entry(name(package))
            .or_default()
            .push((version(v), reason.to_string()));
        self
    }

    /// Waits like a network request, counting how many overlap.
    fn request(self: &Arc<Self>) -> impl std::future::Future<Output = ()> + Send + 'static {
        let index = Arc::clone(self);
        async move {
            index.requests.fetch_add(1, Ordering::SeqCst);
            let now = index.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            index.max_in_flight.fetch_max(now, Ordering::SeqCst);
            if !index.delay.is_zero() {
                tokio::time::sleep(index.delay).await;
            }
            index.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn file(package: &PackageName, release: &Release) -> DistFile {
        let (filename, kind) = if release.wheel {
            let filename = format!(
                "{}-{}-py3-none-any.whl",
                package.as_dist_info_name(),
                release.version
            );
            (filename, FileKind::Wheel)
        } else {
            let filename = format!("{}-{}.tar.gz", package.as_dist_info_name(), release.version);
            (filename, FileKind::Sdist)
        };
        DistFile {
            url: format!("https://files.example/{filename}").parse().unwrap(),
            filename,
            kind,
            hashes: vec![],
            size: None,
            requires_python: None,
            yanked: release.yanked.then(String::new),
            has_metadata_file: true,
            metadata_hashes: Vec::new(),
        }
    }
}

/// The provider handed to the resolver (the fake index behind an `Arc`, so tests keep a handle).
struct Shared(Arc<FakeIndex>);

impl Provider for Shared {
    fn recall(&self, roots: &[PackageName]) -> Vec<PackageName> {
        let remembered = self.0.remembered.lock().unwrap();
        remembered.get(roots).cloned().unwrap_or_default()
    }

    fn remember(&self, roots: &[PackageName], resolved: &[PackageName]) {
        let mut remembered = self.0.remembered.lock().unwrap();
        remembered.insert(roots.to_vec(), resolved.to_vec());
    }

    fn kept_resolution(&self, request: &str) -> BoxFuture<'static, Option<Resolution>> {
        let kept = self.0.kept.lock().unwrap().get(request).cloned();
        async move { kept.map(|(_, resolution)| resolution) }.boxed()
    }

    fn keep_resolution(&self, request: &str, consulted: &[PackageName], resolution: &Resolution) {
        if self.0.keeps_resolutions {
            let kept = (consulted.to_vec(), resolution.clone());
            self.0
                .kept
                .lock()
                .unwrap()
                .insert(request.to_string(), kept);
        }
    }

    fn candidates(
        &self,
        package: &PackageName,
    ) -> BoxFuture<'static, Result<Arc<Candidates>, ProviderError>> {
        let index = Arc::clone(&self.0);
        let package = package.clone();
        async move {
            index.request().await;
            if index.broken.lock().unwrap().contains(&package) {
                return Err(ProviderError::new(format!(
                    "failed to fetch https://index.example/simple/{package}/: connection reset"
                )));
            }
            let releases = index.releases.lock().unwrap().get(&package).cloned();
            let unusable = index.unusable.lock().unwrap().get(&package).cloned();
            if releases.is_none() && unusable.is_none() {
                return Err(ProviderError::not_found(format!(
                    "package {package} was not found on https://index.example/simple"
                )));
            }
            let versions = releases
                .unwrap_or_default()
                .iter()
                .map(|release| Candidate {
                    name: package.clone(),
                    version: release.version.clone(),
                    file: FakeIndex::file(&package, release),
                })
                .collect();
            Ok(Arc::new(Candidates {
                versions,
                unusable: unusable.unwrap_or_default(),
            }))
        }
        .boxed()
    }

    fn metadata(
        &self,
        candidate: &Candidate,
    ) -> BoxFuture<'static, Result<Arc<CoreMetadata>, ProviderError>> {
        let index = Arc::clone(&self.0);
        let candidate = candidate.clone();
        async move {
            index.request().await;
            let invalid = (candidate.name.clone(), candidate.version.clone());
            if index.invalid_metadata.lock().unwrap().contains(&invalid) {
                return Err(ProviderError::invalid_metadata(format!(
                    "could not read the metadata of {}-{}.whl: invalid Requires-Dist",
                    candidate.name, candidate.version
                )));
            }
            let releases = index.releases.lock().unwrap();
            let release = releases
                .get(&candidate.name)
                .and_then(|releases| releases.iter().find(|r| r.version == candidate.version))
                .ok_or_else(|| ProviderError::new("no such release"))?;
            // The resolver does not read Provides-Extra; it evaluates `extra == ...` markers.
            let provides_extras = Vec::new();
            Ok(Arc::new(CoreMetadata {
                name: candidate.name.clone(),
                version: candidate.version.clone(),
                requires_dist: release.requires_dist.clone(),
                requires_python: release.requires_python.clone(),
                provides_extras,
            }))
        }
        .boxed()
    }
}

fn linux_cp312() -> MarkerEnvironment {
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: "3.12.1",
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "6.1.0",
        platform_system: "Linux",
        platform_version: "#1 SMP",
        python_full_version: "3.12.1",
        python_version: "3.12",
        sys_platform: "linux",
    })
    .unwrap()
}

fn request(requirements: &[&str]) -> ResolveRequest {
    ResolveRequest {
        requirements: requirements
            .iter()
            .enumerate()
            .map(|(line, r)| {
                (
                    Requirement::from_str(r).unwrap(),
                    Origin(format!("requirements.txt:{}", line + 1)),
                )
            })
            .collect(),
        ..ResolveRequest::default()
    }
}

async fn run(
    index: &Arc<FakeIndex>,
    request: &ResolveRequest,
    options: &ResolveOptions,
) -> Result<Resolution, ResolveError> {
    resolve(
        request,
        Arc::new(Shared(Arc::clone(index))),
        &linux_cp312(),
        options,
    )
    .await
}

/// `name==version` of every package, sorted.
async fn pins(
    index: &Arc<FakeIndex>,
    request: &ResolveRequest,
    options: &ResolveOptions,
) -> Vec<String> {
    let resolution = run(index, request, options).await.unwrap();
    resolution
        .packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect()
}

async fn failure(
    index: &Arc<FakeIndex>,
    request: &ResolveRequest,
    options: &ResolveOptions,
) -> String {
    match run(index, request, options).await {
        Ok(resolution) => panic!("expected no solution, got {resolution:?}"),
        Err(err) => err.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_chain() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "1.0", &["b>=1"])
        .add("b", "1.0", &["c"])
        .add("b", "2.0", &["c<2"])
        .add("c", "1.0", &[])
        .add("c", "2.0", &[]);
    let resolution = run(&index, &request(&["a"]), &ResolveOptions::default())
        .await
        .unwrap();
    let got: Vec<String> = resolution
        .packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect();
    assert_eq!(got, ["a==1.0", "b==2.0", "c==1.0"]);
    let a = resolution.get(&name("a")).unwrap();
    assert!(a.requested);
    assert_eq!(
        a.required_by,
        [RequiredBy::User {
            requirement: "a".into(),
            origin: Origin("requirements.txt:1".into())
        }]
    );
    let c = resolution.get(&name("c")).unwrap();
    assert!(!c.requested);
    assert_eq!(
        c.required_by,
        [RequiredBy::Package {
            name: name("b"),
            version: version("2.0"),
            extra: None,
            requirement: "c<2".into()
        }]
    );
    assert_eq!(c.candidate.file.filename, "c-1.0.tar.gz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extras_of_requests_and_of_dependencies() {
    let index = Arc::new(FakeIndex::new());
    index
        .add(
            "web",
            "1.0",
            &[
                "core",
                "server[fast]>=2 ; extra == 'standard'",
                "docs-tool ; extra == 'docs'",
            ],
        )
        .add("server", "2.0", &["loop ; extra == 'fast'", "h11"])
        .add("core", "1.0", &[])
        .add("h11", "0.14", &[])
        .add("loop", "0.19", &[])
        .add("docs-tool", "1.0", &[]);
    let resolution = run(
        &index,
        &request(&["web[standard]"]),
        &ResolveOptions::default(),
    )
    .await
    .unwrap();
    let got: Vec<String> = resolution
        .packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect();
    assert_eq!(
        got,
        [
            "core==1.0",
            "h11==0.14",
            "loop==0.19",
            "server==2.0",
            "web==1.0"
        ]
    );
    let extras = |n: &str| resolution.get(&name(n)).unwrap().extras.clone();
    assert_eq!(extras("web"), [ExtraName::from_str("standard").unwrap()]);
    assert_eq!(extras("server"), [ExtraName::from_str("fast").unwrap()]);
    assert!(extras("core").is_empty());
    let server = resolution.get(&name("server")).unwrap();
    assert_eq!(
        server.required_by,
        [RequiredBy::Package {
            name: name("web"),
            version: version("1.0"),
            extra: Some(ExtraName::from_str("standard").unwrap()),
            requirement: "server[fast]>=2".into()
        }]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markers_are_evaluated_for_the_target() {
    let index = Arc::new(FakeIndex::new());
    index
        .add(
            "app",
            "1.0",
            &[
                "pywin32 ; sys_platform == 'win32'",
                "uvloop ; sys_platform != 'win32'",
                "tomli ; python_version < '3.11'",
            ],
        )
        .add("uvloop", "0.19", &[]);
    let got = pins(
        &index,
        &request(&["app", "colorama ; os_name == 'nt'"]),
        &ResolveOptions::default(),
    )
    .await;
    assert_eq!(got, ["app==1.0", "uvloop==0.19"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prereleases_as_pip() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "1.0", &[])
        .add("a", "2.0b1", &[])
        .add("only-pre", "1.0rc1", &[])
        .add("only-pre", "0.9a1", &[]);
    let default = ResolveOptions::default();
    // A final release when one satisfies.
    assert_eq!(pins(&index, &request(&["a"]), &default).await, ["a==1.0"]);
    // --pre
    let pre = ResolveOptions {
        prereleases: Prereleases::Allow,
        ..ResolveOptions::default()
    };
    assert_eq!(pins(&index, &request(&["a"]), &pre).await, ["a==2.0b1"]);
    // A specifier that names a pre-release.
    assert_eq!(
        pins(&index, &request(&["a>=2.0b1"]), &default).await,
        ["a==2.0b1"]
    );
    // Nothing else satisfies.
    assert_eq!(
        pins(&index, &request(&["a>1.0"]), &default).await,
        ["a==2.0b1"]
    );
    assert_eq!(
        pins(&index, &request(&["only-pre"]), &default).await,
        ["only-pre==1.0rc1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yanked_only_when_nothing_else_satisfies() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "1.0", &[])
        .add_release("a", "2.0", &[], None, true);
    let default = ResolveOptions::default();
    assert_eq!(pins(&index, &request(&["a"]), &default).await, ["a==1.0"]);
    assert_eq!(
        pins(&index, &request(&["a>=1.0"]), &default).await,
        ["a==1.0"]
    );
    assert_eq!(
        pins(&index, &request(&["a==2.0"]), &default).await,
        ["a==2.0"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requires_python_of_metadata_makes_it_backtrack() {
    let index = Arc::new(FakeIndex::new());
    index
        .add_release("a", "2.0", &[], Some(">=3.13"), false)
        .add_release("a", "1.0", &[], Some(">=3.8"), false);
    assert_eq!(
        pins(&index, &request(&["a"]), &ResolveOptions::default()).await,
        ["a==1.0"]
    );
    let message = failure(&index, &request(&["a>=2"]), &ResolveOptions::default()).await;
    assert_eq!(
        message,
        "no versions satisfy the requirements:\n\
         \x20 - you asked for a>=2 (requirements.txt:1)\n\
         \x20 - a 2.0 requires Python >=3.13 (the target is Python 3.12.1)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtracks_to_an_older_version() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "2.0", &["c<1"])
        .add("a", "1.0", &["c>=1"])
        .add("c", "0.5", &[])
        .add("c", "1.5", &[]);
    assert_eq!(
        pins(&index, &request(&["a", "c>=1"]), &ResolveOptions::default()).await,
        ["a==1.0", "c==1.5"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_names_the_requirement_lines() {
    let index = Arc::new(FakeIndex::new());
    index
        .add(
            "fastapi",
            "0.110.0",
            &["starlette>=0.36.3,<0.37.0", "pydantic"],
        )
        .add("starlette", "0.36.3", &[])
        .add("starlette", "0.38.0", &[])
        .add("pydantic", "2.0", &[]);
    let message = failure(
        &index,
        &request(&["fastapi==0.110.0", "starlette==0.38.0"]),
        &ResolveOptions::default(),
    )
    .await;
    assert_eq!(
        message,
        "no versions satisfy the requirements:\n\
         \x20 - you asked for fastapi==0.110.0 (requirements.txt:1)\n\
         \x20 - fastapi 0.110.0 requires starlette>=0.36.3,<0.37.0\n\
         \x20 - you asked for starlette==0.38.0 (requirements.txt:2)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fetch_stops_the_resolution_instead_of_resolving_around_it() {
    let index = Arc::new(FakeIndex::new());
    // `b` 2.0 needs the broken `c`; 1.0 does not. Skipping `c` would quietly pick b 1.0.
    index
        .add("a", "1.0", &["b"])
        .add("b", "2.0", &["c"])
        .add("b", "1.0", &[])
        .add("c", "1.0", &[]);
    index.broken.lock().unwrap().push(name("c"));
    assert_eq!(
        failure(&index, &request(&["a"]), &ResolveOptions::default()).await,
        "failed to get the versions of c: \
         failed to fetch https://index.example/simple/c/: connection reset"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_with_invalid_metadata_are_left_out_as_pip_does() {
    let index = Arc::new(FakeIndex::new());
    // torchsde 0.2.5 says `numpy (>=1.19.*)`: pip ignores that version and takes another.
    index
        .add("a", "1.0", &["b<3"])
        .add("b", "2.0", &[])
        .add("b", "1.0", &[]);
    index
        .invalid_metadata
        .lock()
        .unwrap()
        .push((name("b"), version("2.0")));
    let default = ResolveOptions::default();
    assert_eq!(
        pins(&index, &request(&["a"]), &default).await,
        ["a==1.0", "b==1.0"]
    );
    // With no other version, the failure says why.
    let message = failure(&index, &request(&["b==2.0"]), &default).await;
    assert!(
        message.contains("b 2.0 is left out because its metadata is invalid"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_packages_and_versions_are_explained() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "1.0", &["ghost"])
        .add("b", "1.0", &[])
        .add("b", "1.1", &[]);
    let default = ResolveOptions::default();
    assert_eq!(
        failure(&index, &request(&["a"]), &default).await,
        "no versions satisfy the requirements:\n\
         \x20 - you asked for a (requirements.txt:1)\n\
         \x20 - a 1.0 requires ghost\n\
         \x20 - ghost: package ghost was not found on https://index.example/simple"
    );
    assert_eq!(
        failure(&index, &request(&["b>=2"]), &default).await,
        "no versions satisfy the requirements:\n\
         \x20 - you asked for b>=2 (requirements.txt:1)\n\
         \x20 - no version of b matches >=2: available: 1.1, 1.0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_file_for_the_target_names_the_newest_usable_version() {
    let index = Arc::new(FakeIndex::new());
    index.add("numpy", "1.24.4", &[]).add_unusable(
        "numpy",
        "2.3.0",
        "numpy 2.3.0 has no wheel for cp312-cp312-manylinux_2_36_x86_64 (wheels: cp313); no sdist",
    );
    assert_eq!(
        failure(&index, &request(&["numpy>=2"]), &ResolveOptions::default()).await,
        "no versions satisfy the requirements:\n\
         \x20 - you asked for numpy>=2 (requirements.txt:1)\n\
         \x20 - no version of numpy matches >=2: numpy 2.3.0 has no wheel for \
         cp312-cp312-manylinux_2_36_x86_64 (wheels: cp313); no sdist; \
         the newest usable version is 1.24.4"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constraints_restrict_without_adding() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "1.0", &["b"])
        .add("b", "1.0", &[])
        .add("b", "2.0", &[])
        .add("unused", "1.0", &[]);
    let mut request = request(&["a"]);
    request.constraints = vec![
        (
            Requirement::from_str("b<2").unwrap(),
            Origin("constraints.txt:1".into()),
        ),
        (
            Requirement::from_str("unused==1.0").unwrap(),
            Origin("constraints.txt:2".into()),
        ),
    ];
    assert_eq!(
        pins(&index, &request, &ResolveOptions::default()).await,
        ["a==1.0", "b==1.0"]
    );
    request.constraints[0].0 = Requirement::from_str("b>3").unwrap();
    let message = failure(&index, &request, &ResolveOptions::default()).await;
    assert_eq!(
        message,
        "no versions satisfy the requirements:\n\
         \x20 - you asked for a (requirements.txt:1)\n\
         \x20 - a 1.0 requires b\n\
         \x20 - no version of b can be used: the constraint b>3 (constraints.txt:1) excludes 2.0, 1.0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_versions_are_kept_unless_upgraded() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "1.0", &["b"])
        .add("a", "2.0", &["b"])
        .add("b", "1.0", &[])
        .add("b", "2.0", &[]);
    let mut request = request(&["a"]);
    request.preferences = vec![(name("a"), version("1.0")), (name("b"), version("1.0"))];
    let keep = ResolveOptions::default();
    assert_eq!(pins(&index, &request, &keep).await, ["a==1.0", "b==1.0"]);
    let upgrade_a = ResolveOptions {
        upgrade: Upgrade::Packages(vec![name("a")]),
        ..ResolveOptions::default()
    };
    assert_eq!(
        pins(&index, &request, &upgrade_a).await,
        ["a==2.0", "b==1.0"]
    );
    let upgrade_all = ResolveOptions {
        upgrade: Upgrade::All,
        ..ResolveOptions::default()
    };
    assert_eq!(
        pins(&index, &request, &upgrade_all).await,
        ["a==2.0", "b==2.0"]
    );
    // An installed version that does not satisfy is replaced.
    request.requirements[0].0 = Requirement::from_str("a>=2").unwrap();
    assert_eq!(pins(&index, &request, &keep).await, ["a==2.0", "b==1.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_deps_installs_only_the_request() {
    let index = Arc::new(FakeIndex::new());
    index.add("a", "1.0", &["b"]).add("b", "1.0", &[]);
    let options = ResolveOptions {
        no_deps: true,
        ..ResolveOptions::default()
    };
    let resolution = run(&index, &request(&["a[extra]"]), &options)
        .await
        .unwrap();
    assert_eq!(resolution.packages.len(), 1);
    assert_eq!(resolution.packages[0].name, name("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_binary_takes_an_older_wheel() {
    let index = Arc::new(FakeIndex::new());
    index.add_wheel("a", "1.0").add("a", "2.0", &[]);
    let default = ResolveOptions::default();
    assert_eq!(pins(&index, &request(&["a"]), &default).await, ["a==2.0"]);
    let prefer_binary = ResolveOptions {
        prefer_binary: true,
        ..ResolveOptions::default()
    };
    let resolution = run(&index, &request(&["a"]), &prefer_binary).await.unwrap();
    assert_eq!(
        resolution.packages[0].candidate.file.filename,
        "a-1.0-py3-none-any.whl"
    );
}

/// The solver's thread waits on requests that run on the caller's runtime, even when that
/// runtime has a single thread.
#[tokio::test(flavor = "current_thread")]
async fn works_on_a_current_thread_runtime() {
    let index = Arc::new(FakeIndex::with_delay(Duration::from_millis(5)));
    index.add("a", "1.0", &["b"]).add("b", "1.0", &[]);
    assert_eq!(
        pins(&index, &request(&["a"]), &ResolveOptions::default()).await,
        ["a==1.0", "b==1.0"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_urls_are_refused_clearly() {
    let index = Arc::new(FakeIndex::new());
    let message = run(
        &index,
        &request(&["pkg @ https://example.com/pkg-1.0-py3-none-any.whl"]),
        &ResolveOptions::default(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(message.contains("requirements.txt:1"), "{message}");
    assert!(message.contains("not supported yet"), "{message}");
}

/// 30 packages: a root needing 5 packages, each needing 5 more; 50 ms per request. Prefetching
/// overlaps the requests of a level instead of doing them one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefetching_overlaps_requests() {
    let index = Arc::new(FakeIndex::with_delay(Duration::from_millis(50)));
    let mut top = Vec::new();
    for i in 0..5 {
        let children: Vec<String> = (0..5).map(|j| format!("leaf-{i}-{j}>=1")).collect();
        let children: Vec<&str> = children.iter().map(String::as_str).collect();
        index.add(&format!("mid-{i}"), "1.0", &children);
        for j in 0..5 {
            index.add(&format!("leaf-{i}-{j}"), "1.0", &[]);
            index.add(&format!("leaf-{i}-{j}"), "0.9", &[]);
        }
        top.push(format!("mid-{i}"));
    }
    let top: Vec<&str> = top.iter().map(String::as_str).collect();
    let resolution = run(&index, &request(&top), &ResolveOptions::default())
        .await
        .unwrap();
    assert_eq!(resolution.packages.len(), 30);
    // 30 candidates() and 30 metadata() requests, each made once.
    assert_eq!(index.requests.load(Ordering::SeqCst), 60);
    let max = index.max_in_flight.load(Ordering::SeqCst);
    assert!(max >= 20, "at most {max} requests were in flight at once");
}

/// A chain a -> b -> c -> d -> e: the graph reveals one level per round of requests. The
/// second resolution of the same roots asks for every project the first one ended with at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_resolution_requests_what_the_first_needed_at_once() {
    let index = Arc::new(FakeIndex::with_delay(Duration::from_millis(30)));
    index
        .add("a", "1.0", &["b"])
        .add("b", "1.0", &["c"])
        .add("c", "1.0", &["d"])
        .add("d", "1.0", &["e"])
        .add("e", "1.0", &[]);
    let first = pins(&index, &request(&["a"]), &ResolveOptions::default()).await;
    assert_eq!(first.len(), 5);
    assert!(index.max_in_flight.load(Ordering::SeqCst) <= 2);
    let remembered = index.remembered.lock().unwrap().clone();
    let names: Vec<&str> = ["a", "b", "c", "d", "e"].to_vec();
    assert_eq!(
        remembered.get(&vec![name("a")]).unwrap(),
        &names.iter().map(|n| name(n)).collect::<Vec<_>>()
    );

    index.max_in_flight.store(0, Ordering::SeqCst);
    let second = pins(&index, &request(&["a"]), &ResolveOptions::default()).await;
    assert_eq!(second, first);
    let max = index.max_in_flight.load(Ordering::SeqCst);
    assert!(max >= 5, "at most {max} requests were in flight at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_across_every_version_is_stated_once() {
    let index = Arc::new(FakeIndex::new());
    index
        .add("a", "1.0", &["c>=2"])
        .add("a", "1.1", &["c>=2"])
        .add("a", "2.0", &["c>=2", "d"])
        .add("c", "1.0", &[])
        .add("c", "2.0", &[])
        .add("d", "1.0", &[]);
    let message = failure(
        &index,
        &request(&["a", "c==1.0"]),
        &ResolveOptions::default(),
    )
    .await;
    assert_eq!(
        message,
        "no versions satisfy the requirements:\n\
         \x20 - you asked for a (requirements.txt:1)\n\
         \x20 - every version of a (1.0 to 2.0) requires c>=2\n\
         \x20 - you asked for c==1.0 (requirements.txt:2)"
    );
}

/// A resolution the provider kept is reused for the very same request, with no request to the
/// provider; the provider is told every project the resolution consulted. Another origin for
/// a requirement, or another installed version, is another request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_resolution_is_reused_for_the_same_request_only() {
    let index = Arc::new(FakeIndex {
        keeps_resolutions: true,
        ..FakeIndex::default()
    });
    index
        .add("a", "1.0", &["b"])
        .add("a", "2.0", &["b", "c"])
        .add("b", "1.0", &[])
        .add("c", "1.0", &[]);
    let options = ResolveOptions::default();
    let first = pins(&index, &request(&["a"]), &options).await;
    assert_eq!(first, ["a==2.0", "b==1.0", "c==1.0"]);
    let kept = index.kept.lock().unwrap().clone();
    assert_eq!(kept.len(), 1);
    let (consulted, _) = kept.values().next().unwrap();
    assert_eq!(consulted, &[name("a"), name("b"), name("c")]);

    let requests = index.requests.load(Ordering::SeqCst);
    assert_eq!(pins(&index, &request(&["a"]), &options).await, first);
    assert_eq!(index.requests.load(Ordering::SeqCst), requests);

    let mut elsewhere = request(&["a"]);
    elsewhere.requirements[0].1 = Origin("other.txt:7".into());
    pins(&index, &elsewhere, &options).await;
    let mut installed = request(&["a"]);
    installed.preferences = vec![(name("a"), version("1.0"))];
    assert_eq!(
        pins(&index, &installed, &options).await,
        ["a==1.0", "b==1.0"]
    );
    assert_eq!(index.kept.lock().unwrap().len(), 3);
}
