//! The in-memory table both sandboxes keep their resources in.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// Rows in creation order, with an id index.
#[derive(Debug, Default)]
pub struct Table {
    rows: BTreeMap<u64, Map<String, Value>>,
    index: HashMap<String, u64>,
    next: u64,
}

impl Table {
    /// Appends a row under `id`.
    pub fn insert(&mut self, id: String, row: Map<String, Value>) {
        self.next += 1;
        self.index.insert(id, self.next);
        self.rows.insert(self.next, row);
    }

    /// The row with this id.
    pub fn get(&self, id: &str) -> Option<&Map<String, Value>> {
        self.index.get(id).and_then(|seq| self.rows.get(seq))
    }

    /// The row with this id, for changes.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Map<String, Value>> {
        let seq = *self.index.get(id)?;
        self.rows.get_mut(&seq)
    }

    /// Removes and returns the row with this id.
    pub fn remove(&mut self, id: &str) -> Option<Map<String, Value>> {
        let seq = self.index.remove(id)?;
        self.rows.remove(&seq)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows in creation order, with their position (used as a checkpoint).
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = (u64, &Map<String, Value>)> {
        self.rows.range(from..).map(|(seq, row)| (*seq, row))
    }
}
