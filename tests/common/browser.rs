//! A real browser for the web console: Debian's headless Chromium driven over WebDriver by
//! its `chromedriver` (from `chromium-driver`), through the fantoccini client. Synchronous
//! for the tests (its own runtime); the driver is killed when the browser drops.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// The browser's binary, as Debian installs it.
const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium and its driver.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    /// The driver's and the browser's TMPDIR (profiles, scoped dirs), gone with the browser.
    scratch: tempfile::TempDir,
}

/// Fails the test with the way out when the browser or its driver is missing.
fn require(binary: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {binary}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found || std::path::Path::new(binary).exists(),
        "{binary} is missing: apt-get install {package} (the README's test command does)"
    );
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session through it.
    pub fn start() -> Browser {
        require(CHROMIUM, "chromium");
        require("chromedriver", "chromium-driver");
        let port = super::quiet_port_block();
        let scratch = tempfile::tempdir().expect("a scratch directory");
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("TMPDIR", scratch.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1500,900", "--lang=zh-CN",
                         "--autoplay-policy=no-user-gesture-required"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = rt.block_on(async {
            loop {
                let made = ClientBuilder::rustls()
                    .expect("a TLS setup")
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await;
                match made {
                    Ok(c) => break c,
                    Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        Browser {
            rt,
            client: Some(client),
            driver,
            scratch,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("a live session")
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The current address.
    pub fn url(&self) -> String {
        self.rt
            .block_on(self.client().current_url())
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Types `text` into the field `css`.
    pub fn fill(&self, css: &str, text: &str) {
        self.rt.block_on(async {
            let field = self.client().find(Locator::Css(css)).await.expect(css);
            field.send_keys(text).await.expect("typing");
        });
    }

    /// Clicks `css`; found again if a push redrew it between finding and clicking (a stale
    /// element), a few times.
    pub fn click(&self, css: &str) {
        self.rt.block_on(async {
            for attempt in 0.. {
                let el = self.client().find(Locator::Css(css)).await.expect(css);
                match el.click().await {
                    Ok(()) => return,
                    Err(e) if attempt < 5 => {
                        eprintln!("click {css}: {e}; again");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("click {css}: {e}"),
                }
            }
        });
    }

    /// Runs `script` in the page (as WebDriver's execute: `return …` gives its value).
    pub fn run(&self, script: &str) -> serde_json::Value {
        self.rt
            .block_on(self.client().execute(script, Vec::new()))
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// The visible text of `css`, or `None` if there is no such element.
    pub fn text(&self, css: &str) -> Option<String> {
        self.rt.block_on(async {
            for _ in 0..5 {
                let el = self.client().find(Locator::Css(css)).await.ok()?;
                match el.text().await {
                    Ok(text) => return Some(text),
                    // Redrawn by a push between finding and reading: find it again.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            None
        })
    }

    /// Waits up to `limit` for `css`'s text to satisfy `ok`; returns it, or panics with what
    /// the page showed.
    pub fn wait_text(&self, css: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.text(css);
            if let Some(t) = text.as_deref().filter(|t| ok(t)) {
                return t.to_string();
            }
            if Instant::now() > deadline {
                let page = self.text("body").unwrap_or_default();
                panic!("{css} showed {text:?} after {limit:?}; the page:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits up to `limit` until the page's address no longer ends with `path`: a form sent
    /// from there has been answered. Going elsewhere before that races the form: the new
    /// page's request may set a fresh CSRF cookie before the form's own request goes out.
    pub fn wait_away_from(&self, path: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.url().ends_with(path) {
            if Instant::now() > deadline {
                let page = self.text("body").unwrap_or_default();
                panic!("still on {path} after {limit:?}; the page:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a screenshot as `name.png` under the target directory's `screenshots/`, for a
    /// person to look at; returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .rt
            .block_on(self.client().screenshot())
            .expect("a screenshot");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // The browser's own processes may still be closing files in it.
        for _ in 0..20 {
            if std::fs::remove_dir_all(self.scratch.path()).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
