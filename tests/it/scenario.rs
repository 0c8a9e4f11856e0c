//! A small scenario helper: a temporary folder with files in it, and the
//! `densebin` binary run inside it.

use std::path::PathBuf;
use std::process::Output;

use densebin::Grid;

/// A temporary folder to run densebin in.
pub struct Scenario {
    dir: tempfile::TempDir,
}

impl Scenario {
    pub fn new() -> Scenario {
        Scenario {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `contents` to `name` and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write fixture");
        p
    }

    /// The densebin command, run in the scenario's folder.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_densebin"));
        c.current_dir(self.dir.path());
        c
    }

    /// Runs densebin with `args` and returns what happened.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run densebin")
    }

    /// Runs densebin, asserts success, returns stderr.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "densebin {args:?} failed: {stderr}");
        stderr
    }

    /// Runs densebin, asserts that it exits with `code` and prints one
    /// line on stderr, and returns that line.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "densebin {args:?} should exit with {code}: {stderr}"
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "the error should be one line: {stderr:?}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr.trim_end().to_string()
    }

    /// Runs densebin, asserts that it exits with `code` and one line that
    /// contains `message`.
    pub fn fails_with(&self, args: &[&str], code: i32, message: &str) {
        let err = self.fails(args, code);
        assert!(err.contains(message), "expected {message:?} in {err:?}");
    }

    /// Reads a grid file of the scenario.
    pub fn grid(&self, name: &str) -> Grid {
        densebin::store::read_grid(&self.path(name)).expect("read grid")
    }

    /// Names of the files in the folder, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("list folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Points as text lines `x y z`, printed so that they parse back exactly.
/// The path of `tests/data/{name}`, a fixture kept in the repository.
pub fn fixture(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", name]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

pub fn text_lines(points: &[(f64, f64, f64)], sep: &str) -> String {
    points
        .iter()
        .map(|(x, y, z)| format!("{x:?}{sep}{y:?}{sep}{z:?}\n"))
        .collect()
}

/// Points as little-endian f64 records.
pub fn f64_records(points: &[(f64, f64, f64)]) -> Vec<u8> {
    points
        .iter()
        .flat_map(|&(x, y, z)| [x, y, z])
        .flat_map(f64::to_le_bytes)
        .collect()
}

/// Points as little-endian f32 records, and the points as read back.
pub fn f32_records(points: &[(f64, f64, f64)]) -> (Vec<u8>, Vec<(f64, f64, f64)>) {
    let bytes = points
        .iter()
        .flat_map(|&(x, y, z)| [x as f32, y as f32, z as f32])
        .flat_map(f32::to_le_bytes)
        .collect();
    let widened = points
        .iter()
        .map(|&(x, y, z)| (x as f32 as f64, y as f32 as f64, z as f32 as f64))
        .collect();
    (bytes, widened)
}

/// An `.npy` file as numpy.save writes it: magic, version 1.0, the header
/// dict padded with spaces to a multiple of 64 bytes, then `data`.
pub fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}");
    let mut header = dict.into_bytes();
    let total = 10 + header.len() + 1;
    header.extend(std::iter::repeat_n(
        b' ',
        total.next_multiple_of(64) - total,
    ));
    header.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header);
    out.extend(data);
    out
}
