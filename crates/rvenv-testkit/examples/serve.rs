//! Serves a few demo packages until killed, for poking at the test index by hand:
//! `cargo run -p rvenv-testkit --example serve [DIR]` (DIR also gets the files, as a find-links dir).

use rvenv_testkit::{IndexServer, SdistBuilder, ServedFile, WheelBuilder};

fn main() {
    let files = vec![
        WheelBuilder::new("Demo-App", "1.0")
            .requires_dist("demo-lib>=2")
            .requires_dist("demo-extra; extra == 'cli'")
            .provides_extra("cli")
            .requires_python(">=3.8")
            .entry_point("console_scripts", "demo-app", "demo_app:main")
            .file(
                "demo_app/__init__.py",
                "def main():\n    print('demo-app works')\n",
            )
            .data_file(
                "scripts",
                "demo-script",
                "#!python\nprint('script works')\n",
            )
            .data_file("data", "share/demo/readme.txt", "hello\n")
            .build(),
        WheelBuilder::new("demo_lib", "2.0").build(),
        WheelBuilder::new("demo_lib", "2.1").build(),
        WheelBuilder::new("demo-extra", "0.1").build(),
        SdistBuilder::new("demo-lib", "2.1").build(),
    ];
    if let Some(dir) = std::env::args().nth(1) {
        rvenv_testkit::write_find_links_dir(&dir, &files);
    }
    let mut served: Vec<ServedFile> = files.into_iter().map(ServedFile::new).collect();
    served[2] = served[2].clone().yanked("do not use");
    let server = IndexServer::builder().files(served).start();
    println!("{}", server.url());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
