//! The command line of the benchmark: which sections, how many runs.

pub(crate) const SECTIONS: [&str; 12] = [
    "prepare", "limit", "size", "xz", "warm", "watch", "accuracy", "bundle", "rss", "build",
    "editloop", "deflate",
];

pub(crate) struct Options {
    pub(crate) quick: bool,
    pub(crate) only: Vec<String>,
    pub(crate) runs: Option<usize>,
}

pub(crate) fn usage() -> ! {
    eprintln!(
        "usage: assetota-bench [--quick] [--only {}] [--runs N]\n\
         \n  --quick   small corpora (b: 200 files / 16 MiB, c: 64 MiB), fewer runs, no clean builds\
         \n  --only    comma-separated sections (default: all; `build`, `editloop` and `watch` are skipped by --quick unless named;\
         \n            `prepare` only generates the corpora)\
         \n  --runs    timed runs per measurement (default 5, 2 with --quick)",
        SECTIONS.join(",")
    );
    std::process::exit(2)
}

pub(crate) fn parse_args() -> Options {
    let mut opts = Options {
        quick: false,
        only: Vec::new(),
        runs: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--only" => {
                let list = args.next().unwrap_or_else(|| usage());
                for s in list.split(',').filter(|s| !s.is_empty()) {
                    if !SECTIONS.contains(&s) {
                        eprintln!("unknown section `{s}`");
                        usage();
                    }
                    opts.only.push(s.to_owned());
                }
            }
            "--runs" => {
                opts.runs = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .filter(|&n| n > 0)
                        .unwrap_or_else(|| usage()),
                )
            }
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    opts
}

impl Options {
    pub(crate) fn wants(&self, section: &str) -> bool {
        if self.only.is_empty() {
            // They compile projects from scratch: minutes, not a smoke test.
            !(self.quick && matches!(section, "build" | "editloop" | "watch"))
        } else {
            self.only.iter().any(|s| s == section)
        }
    }

    pub(crate) fn runs(&self) -> usize {
        self.runs.unwrap_or(if self.quick { 2 } else { 5 })
    }
}
