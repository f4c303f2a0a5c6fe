//! A pool of long-lived worker processes of one interpreter that compile sources to `.pyc` files
//! at chosen places, fed while other work goes on: an installer can compile a wheel's bytecode
//! as soon as the wheel is unpacked, while other wheels are still downloading.
//!
//! Unlike [`crate::compile_bytecode`] (which writes each `.pyc` beside its source), a job names
//! the source to read, the path the module will have once installed (recorded as the code's
//! `co_filename` and naming the `.pyc` as `importlib.util.cache_from_source` does) and the
//! directory to write the `.pyc` into. The `.pyc` records the source's mtime and size, so it is
//! valid for an installed file linked from that source with its mtime kept.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};

use crate::error::{Error, Result};

/// Reads batches of `source<TAB>installed<TAB>pyc_dir` lines, each batch ended by an empty line;
/// answers one `ok<TAB>pyc_name` or `skip` line per job, then `done`, and flushes. Files that
/// do not compile (Python 2 leftovers, templates) are skipped, as pip skips them.
const WORKER: &str = r#"
import importlib.util, os, py_compile, sys, warnings
warnings.filterwarnings("ignore")
def compile_one(line):
    source, installed, pyc_dir = line.split("\t")
    name = os.path.basename(importlib.util.cache_from_source(installed))
    py_compile.compile(source, cfile=os.path.join(pyc_dir, name), dfile=installed, doraise=True)
    return name
for line in sys.stdin:
    line = line[:-1] if line.endswith("\n") else line
    if not line:
        sys.stdout.write("done\n")
        sys.stdout.flush()
        continue
    try:
        sys.stdout.write("ok\t%s\n" % compile_one(line))
    except Exception:
        sys.stdout.write("skip\n")
"#;

/// Jobs per round trip to a worker: small enough that the workers finish together.
const BATCH: usize = 8;

/// One source to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileJob {
    /// The file to read.
    pub source: PathBuf,
    /// Where the module will be installed: its code's `co_filename`, and the `.pyc`'s name.
    pub installed: PathBuf,
    /// The directory the `.pyc` is written into (created when missing).
    pub pyc_dir: PathBuf,
}

/// Worker processes of one interpreter, started once and fed jobs from any thread.
pub struct CompilerPool {
    python: PathBuf,
    queue: Arc<Queue>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

type Reply = mpsc::Sender<(usize, Result<Vec<Option<String>>>)>;

struct Batch {
    /// Position of the batch among its call's batches.
    index: usize,
    lines: Vec<u8>,
    jobs: usize,
    reply: Reply,
}

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    wake: Condvar,
}

#[derive(Default)]
struct QueueState {
    batches: VecDeque<Batch>,
    closed: bool,
    /// Workers still serving; when none is left, jobs are answered with an error at once.
    alive: usize,
    /// Why the last worker stopped, for the error of jobs that came too late.
    failure: Option<String>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panicking worker holds no invariant of the queue: keep going with its state.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl CompilerPool {
    /// Starts `workers` processes of `python` (at least one). They start in the background:
    /// a worker that cannot start makes its jobs fail, never this call.
    pub fn start(python: &Path, workers: usize) -> CompilerPool {
        let workers = workers.max(1);
        let queue = Arc::new(Queue::default());
        queue.lock().alive = workers;
        let handles = (0..workers)
            .map(|_| {
                let (python, queue) = (python.to_path_buf(), Arc::clone(&queue));
                std::thread::spawn(move || serve(&python, &queue))
            })
            .collect();
        CompilerPool {
            python: python.to_path_buf(),
            queue,
            workers: handles,
        }
    }

    /// Compiles `jobs` on the pool's workers, blocking until all are done. Returns, for each
    /// job, the path of the `.pyc` written, or `None` when the source does not compile.
    /// An error (a worker died, a path that cannot be passed on) means some jobs may not have
    /// run; the `.pyc` files of the others may have been written.
    pub fn compile(&self, jobs: &[CompileJob]) -> Result<Vec<Option<PathBuf>>> {
        let mut batches = Vec::new();
        for chunk in jobs.chunks(BATCH) {
            let mut lines = Vec::new();
            for job in chunk {
                for (index, path) in [&job.source, &job.installed, &job.pyc_dir]
                    .into_iter()
                    .enumerate()
                {
                    let bytes = path.as_os_str().as_bytes();
                    if bytes.iter().any(|&b| b == b'\t' || b == b'\n') {
                        return Err(self.failed(format!(
                            "cannot pass {} to a worker: it holds a tab or a newline",
                            path.display()
                        )));
                    }
                    lines.extend_from_slice(bytes);
                    lines.push(if index == 2 { b'\n' } else { b'\t' });
                }
            }
            lines.push(b'\n');
            batches.push((lines, chunk.len()));
        }
        let count = batches.len();
        let (reply, answers) = mpsc::channel();
        {
            let mut state = self.queue.lock();
            if state.alive == 0 || state.closed {
                let why = state
                    .failure
                    .clone()
                    .unwrap_or_else(|| "the pool is closed".into());
                return Err(self.failed(why));
            }
            for (index, (lines, jobs)) in batches.into_iter().enumerate() {
                state.batches.push_back(Batch {
                    index,
                    lines,
                    jobs,
                    reply: reply.clone(),
                });
            }
        }
        self.queue.wake.notify_all();
        drop(reply);
        let mut names: Vec<Option<Vec<Option<String>>>> = vec![None; count];
        for _ in 0..count {
            let (index, result) = answers
                .recv()
                .map_err(|_| self.failed("the workers stopped".into()))?;
            names[index] = Some(result?);
        }
        Ok(names
            .into_iter()
            .flatten()
            .flatten()
            .zip(jobs)
            .map(|(name, job)| name.map(|name| job.pyc_dir.join(name)))
            .collect())
    }

    /// Stops taking jobs: those not started yet are answered with an error (their callers
    /// return), each worker finishes its batch and ends.
    pub fn close(&self) {
        let abandoned: Vec<Batch> = {
            let mut state = self.queue.lock();
            state.closed = true;
            state.batches.drain(..).collect()
        };
        self.queue.wake.notify_all();
        for batch in abandoned {
            let _ = batch
                .reply
                .send((batch.index, Err(self.failed("cancelled".into()))));
        }
    }

    fn failed(&self, message: String) -> Error {
        Error::Bytecode {
            python: self.python.clone(),
            message,
        }
    }
}

impl Drop for CompilerPool {
    /// Closes the pool and waits for the processes to end.
    fn drop(&mut self) {
        self.close();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// One worker thread: starts its process, then serves batches until the pool closes.
fn serve(python: &Path, queue: &Queue) {
    let failure = match Worker::spawn(python) {
        Ok(mut worker) => {
            let failure = serve_batches(&mut worker, queue);
            worker.stop();
            failure
        }
        Err(err) => Some(err.to_string()),
    };
    let mut state = queue.lock();
    state.alive -= 1;
    if let Some(failure) = failure {
        state.failure = Some(failure);
    }
    if state.alive == 0 {
        // Nobody is left to run what is queued.
        let why = state
            .failure
            .clone()
            .unwrap_or_else(|| "the pool is closed".into());
        for batch in state.batches.drain(..) {
            let _ = batch.reply.send((
                batch.index,
                Err(Error::Bytecode {
                    python: python.to_path_buf(),
                    message: why.clone(),
                }),
            ));
        }
    }
}

/// Serves batches until the pool closes (`None`) or the process fails (why). Up to
/// [`AHEAD`] batches are written before their answers are read, so that the worker never waits
/// for this thread (which, on a busy machine, may wait long for a CPU) between two batches.
fn serve_batches(worker: &mut Worker, queue: &Queue) -> Option<String> {
    let mut in_flight: VecDeque<Batch> = VecDeque::new();
    loop {
        while in_flight.len() < AHEAD {
            let next = {
                let mut state = queue.lock();
                loop {
                    if let Some(batch) = state.batches.pop_front() {
                        break Some(batch);
                    }
                    // With answers to read, do not wait for more work.
                    if state.closed || !in_flight.is_empty() {
                        break None;
                    }
                    state = queue
                        .wake
                        .wait(state)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            };
            let Some(batch) = next else { break };
            let sent = worker.send(&batch);
            in_flight.push_back(batch);
            if let Err(message) = sent {
                return Some(fail_all(worker, in_flight, message));
            }
        }
        // Nothing in flight after the loop above: the pool is closed.
        let batch = in_flight.pop_front()?;
        match worker.receive(batch.jobs) {
            Ok(names) => {
                let _ = batch.reply.send((batch.index, Ok(names)));
            }
            Err(message) => {
                in_flight.push_front(batch);
                return Some(fail_all(worker, in_flight, message));
            }
        }
    }
}

/// Batches written to a worker before the answers to the first are read.
const AHEAD: usize = 3;

/// Answers `batches` with the worker's failure; returns it.
fn fail_all(worker: &Worker, batches: VecDeque<Batch>, message: String) -> String {
    for batch in batches {
        let _ = batch.reply.send((
            batch.index,
            Err(Error::Bytecode {
                python: worker.python.clone(),
                message: message.clone(),
            }),
        ));
    }
    message
}

struct Worker {
    python: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(python: &Path) -> Result<Worker> {
        let mut child = Command::new(python)
            .args(["-I", "-c", WORKER])
            .env("PYTHONIOENCODING", "utf-8:surrogateescape")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| Error::BytecodeSpawn {
                python: python.to_path_buf(),
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Bytecode {
                python: python.to_path_buf(),
                message: "no pipe to the worker".into(),
            });
        };
        Ok(Worker {
            python: python.to_path_buf(),
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
        })
    }

    /// Sends one batch. Batches are small and few are sent ahead, so writing them whole before
    /// reading answers cannot fill both pipes.
    fn send(&mut self, batch: &Batch) -> std::result::Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("the worker's input is closed")?;
        stdin
            .write_all(&batch.lines)
            .and_then(|()| stdin.flush())
            .map_err(|err| format!("the worker stopped reading: {err}"))
    }

    /// Reads the answers to the oldest batch sent (`jobs` jobs).
    fn receive(&mut self, jobs: usize) -> std::result::Result<Vec<Option<String>>, String> {
        let mut names = Vec::with_capacity(jobs);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = self
                .stdout
                .read_until(b'\n', &mut line)
                .map_err(|err| format!("cannot read from the worker: {err}"))?;
            if read == 0 {
                return Err(format!("the worker exited ({})", self.status()));
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            match text {
                b"done" => break,
                b"skip" => names.push(None),
                _ => match text.strip_prefix(b"ok\t") {
                    Some(name) => names.push(Some(String::from_utf8_lossy(name).into_owned())),
                    None => {
                        return Err(format!(
                            "unexpected answer {:?}",
                            String::from_utf8_lossy(text)
                        ))
                    }
                },
            }
        }
        if names.len() != jobs {
            return Err(format!("{} answers to {jobs} jobs", names.len()));
        }
        Ok(names)
    }

    fn status(&mut self) -> String {
        match self.child.wait() {
            Ok(status) => status.to_string(),
            Err(err) => err.to_string(),
        }
    }

    /// Closes the input (the worker's loop ends) and waits for the process.
    fn stop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> PathBuf {
        PathBuf::from("/usr/bin/python3")
    }

    fn job(dir: &Path, name: &str, text: &str) -> CompileJob {
        let source = dir.join("src").join(name);
        fs_err::create_dir_all(source.parent().unwrap()).unwrap();
        fs_err::write(&source, text).unwrap();
        CompileJob {
            source,
            installed: dir.join("site").join(name),
            pyc_dir: dir.join("out").join("__pycache__"),
        }
    }

    #[test]
    fn compiles_to_the_chosen_place_for_the_installed_path() {
        let dir = tempfile::tempdir().unwrap();
        let pool = CompilerPool::start(&python(), 2);
        let mut jobs: Vec<CompileJob> = (0..20)
            .map(|i| job(dir.path(), &format!("m{i}.py"), &format!("X = {i}\n")))
            .collect();
        jobs.push(job(dir.path(), "bad.py", "def broken(:\n"));
        let results = pool.compile(&jobs).unwrap();
        assert_eq!(results.len(), 21);
        assert_eq!(
            results[20], None,
            "a source that does not compile is skipped"
        );
        for (i, result) in results[..20].iter().enumerate() {
            let pyc = result.as_ref().expect("compiled");
            assert_eq!(pyc.parent().unwrap(), dir.path().join("out/__pycache__"));
            let name = pyc.file_name().unwrap().to_str().unwrap();
            assert!(name.starts_with(&format!("m{i}.")) && name.ends_with(".pyc"));
            assert!(pyc.is_file());
        }
        // The code object names the installed path, not the source that was read.
        let check = std::process::Command::new(python())
            .args([
                "-c",
                "import marshal,sys; c=marshal.loads(open(sys.argv[1],'rb').read()[16:]); print(c.co_filename)",
            ])
            .arg(results[3].as_ref().unwrap())
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&check.stdout).trim(),
            dir.path().join("site/m3.py").display().to_string()
        );
        // The pool serves further calls, from several threads at once.
        std::thread::scope(|scope| {
            for chunk in jobs[..20].chunks(5) {
                let pool = &pool;
                scope.spawn(move || assert_eq!(pool.compile(chunk).unwrap().len(), 5));
            }
        });
    }

    #[test]
    fn a_missing_interpreter_fails_the_jobs_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let pool = CompilerPool::start(&dir.path().join("no-python"), 2);
        let jobs = vec![job(dir.path(), "a.py", "A = 1\n")];
        assert!(pool.compile(&jobs).is_err());
        assert!(pool.compile(&jobs).is_err());
    }

    #[test]
    fn paths_with_newlines_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let pool = CompilerPool::start(&python(), 1);
        let mut bad = job(dir.path(), "a.py", "A = 1\n");
        bad.installed = dir.path().join("x\ny.py");
        assert!(pool.compile(&[bad]).is_err());
        assert!(pool.compile(&[job(dir.path(), "b.py", "B = 1\n")]).is_ok());
    }
}
