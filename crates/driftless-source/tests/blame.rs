//! Blame, ancestry and first-parent history through the mirror, against `git daemon` on
//! loopback, after commits by different authors.

mod support;

use driftless_source::{Cache, Source, pull_request};
use support::{Result, Upstream, git_daemon};

const ALICE: (&str, &str) = ("Alice", "alice@example.com");
const BOB: (&str, &str) = ("Bob", "bob@example.com");

#[test]
fn each_line_is_blamed_on_the_commit_and_author_that_last_changed_it() -> Result {
    let upstream = Upstream::new()?;
    upstream.write(
        "app/web.yaml",
        "kind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: \"1\"\n  b: \"1\"\n",
    )?;
    let first = upstream.commit_as(ALICE, 1_700_000_000, "Add web")?;
    upstream.write(
        "app/web.yaml",
        "kind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: \"1\"\n  b: \"2\"\n",
    )?;
    let second = upstream.commit_as(BOB, 1_700_000_100, "Raise b (#42)")?;
    upstream.write("other.txt", "unrelated\n")?;
    let third = upstream.commit_as(ALICE, 1_700_000_200, "Unrelated")?;

    let daemon = git_daemon(&upstream)?;
    let dir = tempfile::tempdir()?;
    let cache = Cache::new(dir.path());
    let source = Source::new(&daemon.url);
    assert_eq!(cache.resolve(&source, "main")?.commit, third);

    let a = cache.blame(&source, &third, "app/web.yaml", Some(5..=5))?;
    assert_eq!(
        (a.id.as_str(), a.author.as_str()),
        (first.as_str(), "Alice")
    );
    assert_eq!(a.email, "alice@example.com");
    assert_eq!((a.authored, a.subject()), (1_700_000_000, "Add web"));
    let b = cache.blame(&source, &third, "app/web.yaml", Some(6..=6))?;
    assert_eq!((b.id.as_str(), b.author.as_str()), (second.as_str(), "Bob"));
    assert_eq!(pull_request(&b.message), Some(42));
    // A range, or the whole file, is blamed on the newest commit among its lines.
    let range = cache.blame(&source, &third, "app/web.yaml", Some(1..=6))?;
    assert_eq!(range.id, second);
    assert_eq!(
        cache.blame(&source, &third, "app/web.yaml", None)?.id,
        second
    );
    // At the first commit, the line is Alice's.
    assert_eq!(
        cache
            .blame(&source, &first, "app/web.yaml", Some(6..=6))?
            .id,
        first
    );

    let missing = cache.blame(&source, &third, "app/nope.yaml", None).err();
    assert!(
        missing
            .as_ref()
            .is_some_and(|e| e.to_string().contains("blame of app/nope.yaml")),
        "{missing:?}"
    );

    assert!(cache.is_ancestor(&source, &first, &third)?);
    assert!(cache.is_ancestor(&source, &third, &third)?);
    assert!(!cache.is_ancestor(&source, &third, &first)?);

    // Two commits in one second: the descendant is the later one, whichever line comes first.
    upstream.write("same.txt", "one\ntwo\n")?;
    upstream.commit_as(BOB, 1_700_000_300, "Both lines")?;
    upstream.write("same.txt", "one\nTWO\n")?;
    let fifth = upstream.commit_as(ALICE, 1_700_000_400, "Second line")?;
    upstream.write("same.txt", "ONE\nTWO\n")?;
    let sixth = upstream.commit_as(BOB, 1_700_000_400, "First line")?;
    upstream.write("same.txt", "ONE\nTwo\n")?;
    let seventh = upstream.commit_as(ALICE, 1_700_000_400, "Second line again")?;
    assert_eq!(cache.resolve(&source, "main")?.commit, seventh);
    assert_eq!(
        cache.blame(&source, &sixth, "same.txt", Some(1..=2))?.id,
        sixth
    );
    assert_eq!(
        cache.blame(&source, &seventh, "same.txt", Some(1..=2))?.id,
        seventh
    );
    assert_eq!(
        cache.blame(&source, &seventh, "same.txt", Some(1..=1))?.id,
        sixth
    );
    assert_ne!(fifth, sixth);

    let history = cache.first_parent_history(&source, &third, 10)?;
    let ids: Vec<&str> = history.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [third.as_str(), second.as_str(), first.as_str()]);
    assert_eq!(history[1].committed, 1_700_000_100);
    assert_eq!(cache.first_parent_history(&source, &third, 1)?.len(), 1);
    Ok(())
}
