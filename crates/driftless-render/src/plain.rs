//! The plain renderer: a directory of YAML and JSON manifest files.

use driftless_resource::{Manifest, parse_manifests};
use globset::GlobMatcher;

use crate::renderer::{RenderError, Renderer};
use crate::tree::{EntryKind, FileTree, join};

/// File name endings read by the plain renderer (as Argo CD's directory source does).
const EXTENSIONS: [&str; 3] = [".yaml", ".yml", ".json"];

/// Most directory entries one render looks at: far above the files a source reads (50,000),
/// and a bound on directories that symbolic links make the walk visit again and again.
const MAX_VISITS: usize = 200_000;

/// Deepest directory nesting a recursive render descends into.
const MAX_DEPTH: usize = 64;

/// What a recursive walk has seen so far.
#[derive(Debug, Default)]
struct Walk {
    /// Entries seen.
    visits: usize,
    /// Directories between the rendered one and the one being listed.
    depth: usize,
}

/// Options of the plain renderer.
///
/// A pattern without `/` matches a file's name (`*.yaml`, `{a,b}.yml`); a pattern with `/`
/// matches the path relative to the rendered directory (`base/*.yaml`, `**/crd-*.yaml`), where
/// `*` does not cross `/` and `**` does. Only `.yaml`, `.yml` and `.json` files are ever read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlainOptions {
    /// Descend into subdirectories.
    pub recursive: bool,
    /// When not empty, read only files matching one of these.
    pub include: Vec<String>,
    /// Never read files matching one of these (wins over `include`).
    pub exclude: Vec<String>,
}

/// Renders every manifest file of a directory, files in path order, documents in file order.
#[derive(Debug, Clone)]
pub struct Plain {
    recursive: bool,
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

/// A compiled pattern and whether it applies to the name or to the relative path.
#[derive(Debug, Clone)]
struct Pattern {
    matcher: GlobMatcher,
    whole_path: bool,
}

impl Pattern {
    fn new(pattern: &str) -> Result<Self, RenderError> {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| RenderError::Glob {
                pattern: pattern.to_owned(),
                message: err.kind().to_string(),
            })?;
        Ok(Self {
            matcher: glob.compile_matcher(),
            whole_path: pattern.contains('/'),
        })
    }

    fn matches(&self, relative: &str) -> bool {
        if self.whole_path {
            self.matcher.is_match(relative)
        } else {
            let name = relative.rsplit('/').next().unwrap_or(relative);
            self.matcher.is_match(name)
        }
    }
}

impl Plain {
    /// Compiles the options.
    ///
    /// # Errors
    /// [`RenderError::Glob`] for an invalid pattern.
    pub fn new(options: &PlainOptions) -> Result<Self, RenderError> {
        let compile = |patterns: &[String]| {
            patterns
                .iter()
                .map(|p| Pattern::new(p))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            recursive: options.recursive,
            include: compile(&options.include)?,
            exclude: compile(&options.exclude)?,
        })
    }

    /// Whether a file (path relative to the rendered directory) is read.
    fn selects(&self, relative: &str) -> bool {
        EXTENSIONS.iter().any(|ext| relative.ends_with(ext))
            && (self.include.is_empty() || self.include.iter().any(|p| p.matches(relative)))
            && !self.exclude.iter().any(|p| p.matches(relative))
    }

    /// Collects the selected files under `dir`, as (tree path, path relative to the root dir).
    /// `walk` counts the entries seen and the directories above `dir`.
    fn collect(
        &self,
        tree: &dyn FileTree,
        dir: &str,
        relative_dir: &str,
        walk: &mut Walk,
        out: &mut Vec<String>,
    ) -> Result<(), RenderError> {
        for name in tree.read_dir(dir)? {
            let path = join(dir, &name);
            let relative = join(relative_dir, &name);
            walk.visits += 1;
            if walk.visits > MAX_VISITS {
                return Err(RenderError::Limit {
                    path,
                    message: format!("more than {MAX_VISITS} directory entries"),
                });
            }
            match tree.kind(&path) {
                Some(EntryKind::Dir) if self.recursive => {
                    if walk.depth >= MAX_DEPTH {
                        return Err(RenderError::Limit {
                            path,
                            message: format!(
                                "directories nested more than {MAX_DEPTH} deep (a symbolic link to a parent?)"
                            ),
                        });
                    }
                    walk.depth += 1;
                    self.collect(tree, &path, &relative, walk, out)?;
                    walk.depth -= 1;
                }
                Some(EntryKind::File) if self.selects(&relative) => out.push(path),
                _ => {}
            }
        }
        Ok(())
    }
}

impl Renderer for Plain {
    fn name(&self) -> &'static str {
        "plain"
    }

    fn claims(&self, _tree: &dyn FileTree, _dir: &str) -> bool {
        true
    }

    fn render(&self, tree: &dyn FileTree, dir: &str) -> Result<Vec<Manifest>, RenderError> {
        let mut files = Vec::new();
        let mut walk = Walk::default();
        self.collect(tree, dir, "", &mut walk, &mut files)?;
        // Byte order of the full path, independent of how the tree lists directories.
        files.sort();
        let mut manifests = Vec::new();
        for file in files {
            let bytes = tree.read_file(&file)?;
            manifests.extend(parse_manifests(&file, &bytes)?);
        }
        Ok(manifests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryTree, Renderers, TreeError};

    fn cm(name: &str) -> String {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
    }

    fn tree() -> MemoryTree {
        let mut tree = MemoryTree::default();
        tree.insert("app/b.yaml", cm("b"));
        tree.insert("app/a.yml", format!("{}---\n{}", cm("a1"), cm("a2")));
        tree.insert(
            "app/c.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#,
        );
        tree.insert("app/README.md", "not yaml");
        tree.insert("app/sub/d.yaml", cm("d"));
        tree.insert("app/sub/deeper/e.yaml", cm("e"));
        tree.insert("other/f.yaml", cm("f"));
        tree
    }

    fn names(options: PlainOptions, dir: &str) -> Result<Vec<String>, RenderError> {
        let renderers = Renderers::new(vec![Box::new(Plain::new(&options)?)]);
        Ok(renderers
            .render(&tree(), dir)?
            .iter()
            .map(|m| format!("{}:{}", m.provenance().file, m.key().name))
            .collect())
    }

    #[test]
    fn flat_by_default_in_path_order() -> Result<(), RenderError> {
        assert_eq!(
            names(PlainOptions::default(), "app")?,
            [
                "app/a.yml:a1",
                "app/a.yml:a2",
                "app/b.yaml:b",
                "app/c.json:c"
            ]
        );
        Ok(())
    }

    #[test]
    fn recursive_descends_in_path_order() -> Result<(), RenderError> {
        let options = PlainOptions {
            recursive: true,
            ..PlainOptions::default()
        };
        assert_eq!(
            names(options, "app")?,
            [
                "app/a.yml:a1",
                "app/a.yml:a2",
                "app/b.yaml:b",
                "app/c.json:c",
                "app/sub/d.yaml:d",
                "app/sub/deeper/e.yaml:e"
            ]
        );
        Ok(())
    }

    #[test]
    fn include_and_exclude_globs() -> Result<(), RenderError> {
        let options = PlainOptions {
            recursive: true,
            include: vec!["*.yaml".into()],
            exclude: vec!["sub/deeper/**".into()],
        };
        assert_eq!(names(options, "app")?, ["app/b.yaml:b", "app/sub/d.yaml:d"]);
        let options = PlainOptions {
            recursive: true,
            include: vec!["sub/*.yaml".into(), "{a,c}.*".into()],
            exclude: vec!["c.json".into()],
        };
        assert_eq!(
            names(options, "app")?,
            ["app/a.yml:a1", "app/a.yml:a2", "app/sub/d.yaml:d"]
        );
        Ok(())
    }

    #[test]
    fn root_of_the_tree_renders_too() -> Result<(), RenderError> {
        let options = PlainOptions {
            recursive: true,
            ..PlainOptions::default()
        };
        assert_eq!(names(options, "")?.len(), 7);
        Ok(())
    }

    #[test]
    fn missing_directory_and_bad_glob_are_errors() {
        assert!(matches!(
            names(PlainOptions::default(), "nope"),
            Err(RenderError::Tree(TreeError::NotFound(p))) if p == "nope"
        ));
        let options = PlainOptions {
            include: vec!["[".into()],
            ..PlainOptions::default()
        };
        assert!(matches!(
            names(options, "app"),
            Err(RenderError::Glob { .. })
        ));
    }

    #[test]
    fn duplicate_across_files_names_both() {
        let mut tree = tree();
        tree.insert("app/z.yaml", format!("# again\n{}", cm("b")));
        let renderers = Renderers::new(vec![Box::new(Plain {
            recursive: false,
            include: Vec::new(),
            exclude: Vec::new(),
        })]);
        let err = renderers.render(&tree, "app").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "duplicate object /ConfigMap//b: declared at app/b.yaml:1 (document 0) and at app/z.yaml:2 (document 0)"
            )
        );
    }
}
