//! A query plan as PostgreSQL's `EXPLAIN (FORMAT JSON)` gives it, and the
//! rules a test holds it to: no full read of a table, an expected index,
//! no sort.

use std::fmt::{self, Write as _};

use serde_json::Value;

/// The plan of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    sql: String,
    root: Value,
}

/// One node of a plan, with what the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanNode {
    /// `Seq Scan`, `Index Scan`, `Sort`, `Limit`, ...
    pub node_type: String,
    /// The table a scan reads.
    pub relation: Option<String>,
    /// The index an index scan uses.
    pub index: Option<String>,
    /// The condition an index scan looks up (`Index Cond`; for a bitmap
    /// heap scan, those of the bitmap index scans under it, when each has
    /// one), if any.
    pub index_cond: Option<String>,
    /// The rows a node drops after reading them (`Filter`).
    pub filter: Option<String>,
    /// How deep in the tree the node is (0 is the root).
    pub depth: usize,
    /// The node types from the root down to this node's parent.
    pub path: Vec<String>,
}

impl PlanNode {
    /// Whether the node is a scan that reads `table` in full: a sequential
    /// scan, a bitmap scan with no condition, or an index scan with no
    /// index condition that is not cut short by a `Limit` above it (a
    /// keyset page's first page reads the index in order and stops; a full
    /// index walk without one reads everything).
    pub fn reads_in_full(&self, table: &str) -> bool {
        if !self
            .relation
            .as_deref()
            .is_some_and(|r| same_table(r, table))
        {
            return false;
        }
        if self.node_type.contains("Seq Scan") {
            return true;
        }
        match self.node_type.as_str() {
            "Index Scan" | "Index Only Scan" => {
                self.index_cond.is_none() && !self.path.iter().any(|p| p == "Limit")
            }
            // A bitmap is built whole before any row is read: a limit
            // does not stop it.
            "Bitmap Heap Scan" => self.index_cond.is_none(),
            _ => false,
        }
    }

    /// Whether the node sorts (`Sort`, `Incremental Sort`).
    pub fn sorts(&self) -> bool {
        self.node_type.ends_with("Sort")
    }

    fn describe(&self) -> String {
        let mut s = self.node_type.clone();
        if let Some(index) = &self.index {
            let _ = write!(s, " using {index}");
        }
        if let Some(relation) = &self.relation {
            let _ = write!(s, " on {relation}");
        }
        if let Some(cond) = &self.index_cond {
            let _ = write!(s, " (Index Cond: {cond})");
        }
        if let Some(filter) = &self.filter {
            let _ = write!(s, " (Filter: {filter})");
        }
        s
    }
}

/// `auth.users` matches `users` in schema `auth`; plain `users` matches the
/// relation name in any schema.
fn same_table(relation: &str, table: &str) -> bool {
    match table.rsplit_once('.') {
        Some((_, name)) => relation == name,
        None => relation == table,
    }
}

/// What a plan is expected to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect<'a> {
    /// The table (`posts`, or `blog.posts`) is never read in full: no
    /// sequential scan, and no index walk without a condition or a limit.
    NoFullScan(&'a str),
    /// Some node uses this index.
    Index(&'a str),
    /// No node sorts: an index gives the order.
    NoSort,
}

/// A plan that broke an [`Expect`]ation: which rule, which node, and the
/// whole plan, for a test's failure message.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The rule that was broken, as written.
    pub expected: String,
    /// The node that broke it (`None` when a node was missing: an index
    /// that no node uses).
    pub node: Option<Box<PlanNode>>,
    /// The statement and its plan, rendered.
    pub plan: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(node) => write!(
                f,
                "expected {}, but the plan has `{}` (under {})",
                self.expected,
                node.describe(),
                if node.path.is_empty() {
                    "nothing: it is the root".to_owned()
                } else {
                    node.path.join(" > ")
                }
            )?,
            None => write!(
                f,
                "expected {}, but no node of the plan does",
                self.expected
            )?,
        }
        write!(f, "\n{}", self.plan)
    }
}

impl std::error::Error for Violation {}

impl Plan {
    /// A plan from `EXPLAIN (FORMAT JSON)` output (`[{"Plan": {...}}]`)
    /// for `sql`.
    pub fn from_json(sql: impl Into<String>, explained: &Value) -> Option<Plan> {
        let root = explained.get(0)?.get("Plan")?.clone();
        Some(Plan {
            sql: sql.into(),
            root,
        })
    }

    /// The explained statement.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The root node as PostgreSQL wrote it.
    pub fn json(&self) -> &Value {
        &self.root
    }

    /// Every node, depth first from the root.
    pub fn nodes(&self) -> Vec<PlanNode> {
        let mut out = Vec::new();
        walk(&self.root, &mut Vec::new(), &mut out);
        out
    }

    /// The first rule the plan breaks, if any.
    pub fn check(&self, expectations: &[Expect<'_>]) -> Result<(), Violation> {
        let nodes = self.nodes();
        for expectation in expectations {
            let (expected, broken) = match expectation {
                Expect::NoFullScan(table) => (
                    format!("no full read of `{table}`"),
                    nodes
                        .iter()
                        .find(|n| n.reads_in_full(table))
                        .cloned()
                        .map(|n| Some(Box::new(n))),
                ),
                Expect::Index(index) => (
                    format!("index `{index}` to be used"),
                    (!nodes.iter().any(|n| n.index.as_deref() == Some(index))).then_some(None),
                ),
                Expect::NoSort => (
                    "no sort".to_owned(),
                    nodes
                        .iter()
                        .find(|n| n.sorts())
                        .cloned()
                        .map(|n| Some(Box::new(n))),
                ),
            };
            if let Some(node) = broken {
                return Err(Violation {
                    expected,
                    node,
                    plan: self.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Panics, with the node and the plan, unless the plan meets every
    /// expectation.
    #[track_caller]
    pub fn assert(&self, expectations: &[Expect<'_>]) -> &Self {
        if let Err(violation) = self.check(expectations) {
            panic!("{violation}");
        }
        self
    }

    /// Panics unless `table` is never read in full ([`Expect::NoFullScan`]).
    #[track_caller]
    pub fn assert_no_full_scan(&self, table: &str) -> &Self {
        self.assert(&[Expect::NoFullScan(table)])
    }

    /// Panics unless some node uses `index` ([`Expect::Index`]).
    #[track_caller]
    pub fn assert_index(&self, index: &str) -> &Self {
        self.assert(&[Expect::Index(index)])
    }

    /// Panics if any node sorts ([`Expect::NoSort`]).
    #[track_caller]
    pub fn assert_no_sort(&self) -> &Self {
        self.assert(&[Expect::NoSort])
    }
}

fn text(node: &Value, key: &str) -> Option<String> {
    node.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// What a bitmap heap scan looks up: the conditions of the bitmap index
/// scans under it, when every one has one (a bitmap index scan without a
/// condition reads its whole index, partial or not).
fn bitmap_lookup(node: &Value) -> Option<String> {
    let mut conds = Vec::new();
    let mut stack: Vec<&Value> = node
        .get("Plans")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    while let Some(child) = stack.pop() {
        if text(child, "Node Type").as_deref() == Some("Bitmap Index Scan") {
            conds.push(text(child, "Index Cond")?);
        }
        if let Some(children) = child.get("Plans").and_then(Value::as_array) {
            stack.extend(children);
        }
    }
    (!conds.is_empty()).then(|| conds.join(" / "))
}

fn walk(node: &Value, path: &mut Vec<String>, out: &mut Vec<PlanNode>) {
    let node_type = text(node, "Node Type").unwrap_or_else(|| "?".to_owned());
    out.push(PlanNode {
        node_type: node_type.clone(),
        relation: text(node, "Relation Name"),
        index: text(node, "Index Name"),
        index_cond: if node_type == "Bitmap Heap Scan" {
            bitmap_lookup(node)
        } else {
            text(node, "Index Cond")
        },
        filter: text(node, "Filter"),
        depth: path.len(),
        path: path.clone(),
    });
    if let Some(children) = node.get("Plans").and_then(Value::as_array) {
        path.push(node_type);
        for child in children {
            walk(child, path, out);
        }
        path.pop();
    }
}

/// The statement, then the plan as an indented tree, one node a line.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "statement: {}", self.sql)?;
        writeln!(f, "plan:")?;
        for node in self.nodes() {
            writeln!(f, "  {}-> {}", "   ".repeat(node.depth), node.describe())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let json = serde_json::json!([{ "Plan": {
            "Node Type": "Limit",
            "Plans": [{
                "Node Type": "Sort",
                "Plans": [{
                    "Node Type": "Seq Scan",
                    "Relation Name": "posts",
                    "Filter": "(deleted_at IS NULL)"
                }]
            }]
        }}]);
        Plan::from_json("SELECT 1", &json).expect("a plan")
    }

    #[test]
    fn each_rule_names_the_node_that_broke_it() {
        let plan = plan();
        let full = plan.check(&[Expect::NoFullScan("posts")]).unwrap_err();
        assert_eq!(
            full.node.as_ref().map(|n| n.node_type.as_str()),
            Some("Seq Scan")
        );
        let message = full.to_string();
        assert!(message.starts_with(
            "expected no full read of `posts`, but the plan has `Seq Scan on posts (Filter: (deleted_at IS NULL))` (under Limit > Sort)"
        ), "{message}");
        assert!(
            message.contains("\n  -> Limit\n     -> Sort\n        -> Seq Scan on posts"),
            "{message}"
        );
        assert!(plan.check(&[Expect::NoFullScan("comments")]).is_ok());
        assert!(plan
            .check(&[Expect::NoSort])
            .unwrap_err()
            .to_string()
            .contains("has `Sort`"));
        let missing = plan
            .check(&[Expect::Index("idx_posts_author_id")])
            .unwrap_err();
        assert!(missing.node.is_none());
        assert!(missing
            .to_string()
            .contains("expected index `idx_posts_author_id` to be used, but no node"));
    }

    #[test]
    fn an_index_walk_is_a_full_read_unless_a_condition_or_a_limit_stops_it() {
        let scan = |cond: Option<&str>, path: &[&str]| PlanNode {
            node_type: "Index Scan".into(),
            relation: Some("posts".into()),
            index: Some("idx".into()),
            index_cond: cond.map(str::to_owned),
            filter: None,
            depth: path.len(),
            path: path.iter().map(|p| p.to_string()).collect(),
        };
        assert!(scan(None, &["Sort"]).reads_in_full("posts"));
        assert!(scan(None, &["Sort"]).reads_in_full("blog.posts"));
        assert!(!scan(None, &["Limit"]).reads_in_full("posts"));
        assert!(!scan(Some("(author_id = ANY ($1))"), &[]).reads_in_full("posts"));
        assert!(!scan(None, &[]).reads_in_full("comments"));
    }
}
