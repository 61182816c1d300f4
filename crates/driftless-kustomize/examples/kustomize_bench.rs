//! Times in-process builds: `kustomize_bench ITERATIONS DIR...` builds each directory
//! ITERATIONS times and prints the mean time per build in microseconds, one line per directory
//! (`<micros> <dir>`), then the total. Directories that fail to build are reported and skipped.
//! With ITERATIONS 0 it prints the built YAML of each directory instead (for comparison).

use driftless_kustomize::{DiskFs, Options, build_yaml};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let dirs: Vec<String> = args.collect();
    let options = Options::default();
    let fs = DiskFs::new("/");
    let mut total = 0.0;
    for dir in &dirs {
        let Ok(abs) = std::fs::canonicalize(dir) else {
            eprintln!("skip {dir}: not found");
            continue;
        };
        let abs = abs.to_string_lossy().into_owned();
        match build_yaml(&fs, &abs, &options) {
            Err(e) => {
                eprintln!("skip {dir}: {e}");
                continue;
            }
            Ok(out) if iterations == 0 => {
                print!("{out}");
                continue;
            }
            Ok(_) => {}
        }
        let start = Instant::now();
        for _ in 0..iterations {
            let _ = build_yaml(&fs, &abs, &options);
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
        total += micros;
        println!("{micros:.0} {dir}");
    }
    if iterations > 0 {
        println!("total_micros_per_round {total:.0}");
    }
}
