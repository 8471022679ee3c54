//! The heap graph: objects as columns indexed by node id, references as
//! compressed rows.

use std::borrow::Cow;

use heapsift_scan::human_bytes;

use crate::addresses::Addresses;
use crate::narrow::NarrowColumn;

pub(crate) use crate::dominators::NONE;

/// Singleton classes named through at most this many others (a singleton
/// class of a singleton class...): Ruby's are rarely more than two deep,
/// and a hand-made dump could make a cycle.
const SINGLETON_DEPTH: u32 = 4;

/// The objects of a dump and their references, in the dump's order.
///
/// Node ids are `u32` indexes into the columns; the GC roots hang under a
/// virtual super-root whose id is [`HeapGraph::super_root`] (one past the
/// last object). Strings are interned (type names, sites, root categories)
/// or kept as short heads in one arena (class names, string heads), never as
/// a `String` per object.
#[derive(Debug, Default)]
pub struct HeapGraph {
    pub(crate) addresses: Addresses,
    pub(crate) kinds: Vec<u8>,
    pub(crate) kind_names: Vec<String>,
    pub(crate) own_bytes: NarrowColumn,
    /// The node of the object's class, when its `class` field is a class.
    pub(crate) classes: Vec<u32>,
    pub(crate) sites: Vec<u32>,
    pub(crate) site_names: Vec<String>,
    /// `bytesize`, `length` or `size`, when the record has one.
    pub(crate) lengths: NarrowColumn,
    /// Per node, where its text ends in `text_bytes`; it starts where the
    /// previous node's ends, and nodes without text take no bytes.
    pub(crate) text_ends: Vec<u32>,
    pub(crate) text_bytes: Vec<u8>,
    /// Per node, where its listed references start in `edges` (they end
    /// where the next node's start). Its class, the reference the dump
    /// leaves out, is not stored again: see [`Successors`].
    pub(crate) edge_starts: Vec<u32>,
    pub(crate) edges: Vec<u32>,
    /// The super-root's successors, and the root category of each.
    pub(crate) roots: Vec<u32>,
    pub(crate) root_kinds: Vec<u16>,
    pub(crate) root_kind_names: Vec<String>,
    /// Per node, its generation, `u64::MAX` when untraced; empty unless
    /// built with [`crate::GraphDetail::AsListed`], as are the next two.
    pub(crate) generations: Vec<u64>,
    /// The references as the dump lists them: from (a node), to (an
    /// address), in the dump's order.
    pub(crate) listed_from: Vec<u32>,
    pub(crate) listed_to: Vec<u64>,
    /// Each singleton class, with what it belongs to.
    pub(crate) singletons: hashbrown::HashMap<u32, SingletonOf, foldhash::fast::RandomState>,
    /// The blocks of lines the nodes were read from, in node order: to
    /// find an object's line again in one block instead of the whole dump.
    pub(crate) blocks: Vec<BlockNodes>,
}

/// What an object references: the objects its record lists (those in the
/// dump), then its class. The GC marks an object's class, but the dump
/// leaves it out of `references`: without this edge, singleton classes and
/// what only they hold would look unreachable. Last, so that paths keep
/// going through the references the dump lists.
#[derive(Debug, Clone, Copy)]
pub struct Successors<'a> {
    listed: &'a [u32],
    class: Option<u32>,
}

impl<'a> Successors<'a> {
    /// How many.
    pub fn len(&self) -> usize {
        self.listed.len() + usize::from(self.class.is_some())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th.
    pub fn get(&self, i: usize) -> Option<u32> {
        match self.listed.get(i) {
            Some(&node) => Some(node),
            None if i == self.listed.len() => self.class,
            None => None,
        }
    }

    /// Whether `node` is among them.
    pub fn contains(&self, node: u32) -> bool {
        self.class == Some(node) || self.listed.contains(&node)
    }

    /// Them, in order.
    pub fn iter(&self) -> <Self as IntoIterator>::IntoIter {
        self.into_iter()
    }
}

impl<'a> IntoIterator for Successors<'a> {
    type Item = u32;
    type IntoIter =
        std::iter::Chain<std::iter::Copied<std::slice::Iter<'a, u32>>, std::option::IntoIter<u32>>;

    fn into_iter(self) -> Self::IntoIter {
        self.listed.iter().copied().chain(self.class)
    }
}

/// The nodes read from one block of lines: from `first` up to the next
/// block's first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockNodes {
    /// The block's number, as the reading numbered it.
    pub block: u32,
    /// Its first node.
    pub first: u32,
}

/// What a singleton class belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SingletonOf {
    /// The object whose singleton class it is (`NONE` when not in the
    /// dump).
    pub object: u32,
    /// Its superclass: for the singleton class of a plain object, that
    /// object's class (`NONE` when unknown).
    pub real_class: u32,
}

impl HeapGraph {
    /// How many objects the graph has (the super-root not included).
    pub fn object_count(&self) -> usize {
        self.addresses.len()
    }

    /// The number of the block of lines (as the reading numbered them,
    /// see `heapsift_input::BlockSpans`) that holds `node`'s record.
    pub fn block_of(&self, node: u32) -> Option<u32> {
        let after = self.blocks.partition_point(|b| b.first <= node);
        let block = self.blocks.get(after.checked_sub(1)?)?;
        (node < self.super_root()).then_some(block.block)
    }

    /// The virtual node above the GC roots.
    pub fn super_root(&self) -> u32 {
        self.addresses.len() as u32
    }

    /// The objects `node` references; for the super-root, the roots.
    pub fn successors(&self, node: u32) -> Successors<'_> {
        if node == self.super_root() {
            return Successors {
                listed: &self.roots,
                class: None,
            };
        }
        let i = node as usize;
        Successors {
            listed: &self.edges[self.edge_starts[i] as usize..self.edge_starts[i + 1] as usize],
            class: self.class(node),
        }
    }

    /// The node of the object at `address`, if the dump has one.
    pub fn node_at(&self, address: u64) -> Option<u32> {
        self.addresses.node_at(address)
    }

    /// The object's address.
    pub fn address(&self, node: u32) -> u64 {
        self.addresses.address(node)
    }

    /// The number of the object's type, for grouping.
    pub(crate) fn kind_index(&self, node: u32) -> u8 {
        self.kinds[node as usize]
    }

    /// The site named `file:line`, if any object was allocated there.
    pub fn site_named(&self, name: &str) -> Option<u32> {
        self.site_names
            .iter()
            .position(|site| site == name)
            .map(|i| i as u32)
    }

    /// The object's type, as the dump names it (`STRING`, `HASH`, ...).
    pub fn kind(&self, node: u32) -> &str {
        &self.kind_names[self.kinds[node as usize] as usize]
    }

    /// The object's own `memsize` in bytes (slot included).
    pub fn own_bytes(&self, node: u32) -> u64 {
        self.own_bytes.get(node).unwrap_or(0)
    }

    /// Where the object was allocated (`file:line`), when traced.
    pub fn location(&self, node: u32) -> Option<&str> {
        let site = self.sites[node as usize];
        (site != NONE).then(|| self.site_names[site as usize].as_str())
    }

    /// The allocation site's number, for grouping, when traced.
    pub fn site(&self, node: u32) -> Option<u32> {
        let site = self.sites[node as usize];
        (site != NONE).then_some(site)
    }

    /// How many allocation sites there are.
    pub fn site_count(&self) -> usize {
        self.site_names.len()
    }

    /// The name of allocation site `site`.
    pub fn site_name(&self, site: u32) -> &str {
        &self.site_names[site as usize]
    }

    /// The node of the object's class, when its `class` field names one
    /// (not for IMEMO and NONE records, where it is something else).
    pub fn class(&self, node: u32) -> Option<u32> {
        let class = self.classes[node as usize];
        (class != NONE).then_some(class)
    }

    /// The name of the object's class, e.g. `String`, `Issue`, as
    /// `obj.class` says it: an object with a singleton class of its own is
    /// of that class's superclass. A class or module itself is of its
    /// metaclass: `Class`, `Module`, or `#<Class:LeakyCache>`.
    pub fn class_name(&self, node: u32) -> Option<Cow<'_, str>> {
        self.class_name_within(node, SINGLETON_DEPTH)
    }

    fn class_name_within(&self, node: u32, depth: u32) -> Option<Cow<'_, str>> {
        self.name_within(self.real_class(node)?, depth)
    }

    /// The node of the class `obj.class` would give.
    fn real_class(&self, node: u32) -> Option<u32> {
        let class = self.class(node)?;
        match (self.kind(node), self.singletons.get(&class)) {
            ("CLASS" | "MODULE", _) | (_, None) => Some(class),
            (_, Some(singleton)) if singleton.real_class != NONE => Some(singleton.real_class),
            (_, Some(_)) => Some(class),
        }
    }

    /// The name of a CLASS or MODULE object, when it has one: a
    /// singleton class is named after its object, as Ruby names it
    /// (`#<Class:LeakyCache>`, `#<Class:#<Issue 0x7f...>>`).
    pub fn name(&self, node: u32) -> Option<Cow<'_, str>> {
        self.name_within(node, SINGLETON_DEPTH)
    }

    /// [`HeapGraph::name`], following at most `depth` singleton classes
    /// (a hand-made dump could make them a cycle).
    fn name_within(&self, node: u32, depth: u32) -> Option<Cow<'_, str>> {
        if !matches!(self.kind(node), "CLASS" | "MODULE") {
            return None;
        }
        self.text(node).or_else(|| {
            let object = self.singletons.get(&node).filter(|_| depth > 0)?.object;
            if object == NONE {
                return None;
            }
            let of = match self.name_within(object, depth - 1) {
                Some(name) => name.into_owned(),
                None => {
                    // Not this singleton class itself, when its superclass
                    // is unknown: the type says more then.
                    let class = self
                        .real_class(object)
                        .filter(|&class| class != node)
                        .and_then(|class| self.name_within(class, depth - 1));
                    let class = class.as_deref().unwrap_or(self.kind(object));
                    format!("#<{class} {:#x}>", self.address(object))
                }
            };
            Some(Cow::Owned(format!("#<Class:{of}>")))
        })
    }

    /// Whether the node is a singleton class.
    fn is_singleton(&self, node: u32) -> bool {
        self.singletons.contains_key(&node)
    }

    /// A Thread's name (`Thread#name=`): Ruby marks it last of the
    /// thread's references, so it is the last one the dump lists, before
    /// the class, when that is a String.
    fn thread_name(&self, thread: u32) -> Option<Cow<'_, str>> {
        let &last = self.successors(thread).listed.last()?;
        (self.kind(last) == "STRING")
            .then(|| self.text(last))
            .flatten()
    }

    /// The C type of a DATA object (`VM/thread`, `proc`), as the dump
    /// names it.
    pub fn data_type(&self, node: u32) -> Option<Cow<'_, str>> {
        (self.kind(node) == "DATA")
            .then(|| self.text(node))
            .flatten()
    }

    /// The node of the object at `address` if it has type `kind`: how an
    /// object is found again in another dump of the same process.
    pub fn node_of(&self, address: u64, kind: &str) -> Option<u32> {
        self.node_at(address)
            .filter(|&node| self.kind(node) == kind)
    }

    /// The GC roots: the super-root's successors, each with its category.
    pub fn roots(&self) -> impl Iterator<Item = (u32, &str)> {
        self.roots
            .iter()
            .zip(&self.root_kinds)
            .map(|(&node, &kind)| (node, self.root_kind_names[kind as usize].as_str()))
    }

    /// The object's GC generation, when traced and the graph was built
    /// with [`crate::GraphDetail::AsListed`].
    pub fn generation(&self, node: u32) -> Option<u64> {
        self.generations
            .get(node as usize)
            .copied()
            .filter(|&generation| generation != u64::MAX)
    }

    /// How many references the dump lists ([`HeapGraph::listed_reference`]).
    pub fn listed_reference_count(&self) -> usize {
        self.listed_to.len()
    }

    /// The `i`th reference as the dump lists it, as (from node, to address):
    /// with [`crate::GraphDetail::AsListed`] only.
    pub fn listed_reference(&self, i: usize) -> (u32, u64) {
        (self.listed_from[i], self.listed_to[i])
    }

    /// The `bytesize` of a STRING or SYMBOL, `length` of an ARRAY or
    /// `size` of a HASH.
    pub fn length(&self, node: u32) -> Option<u64> {
        self.lengths.get(node)
    }

    /// The kept text of a node: a class's name, the head of a string's
    /// value, a DATA object's C type.
    pub(crate) fn text(&self, node: u32) -> Option<Cow<'_, str>> {
        let i = node as usize;
        let start = if i == 0 { 0 } else { self.text_ends[i - 1] } as usize;
        let end = self.text_ends[i] as usize;
        (end > start).then(|| String::from_utf8_lossy(&self.text_bytes[start..end]))
    }

    /// The root category of a root node's first mention (`vm`,
    /// `global_tbl`, ...).
    pub fn root_kind(&self, node: u32) -> Option<&str> {
        self.roots
            .iter()
            .position(|&root| root == node)
            .map(|i| self.root_kind_names[self.root_kinds[i] as usize].as_str())
    }

    /// A short description for people: `Hash (4000 entries)`,
    /// `String "abc…" (1.2 KB)`, `class LeakyCache`, `Issue`.
    pub fn describe(&self, node: u32) -> String {
        let class_name = self.class_name(node);
        let length = self.length(node);
        match self.kind(node) {
            "CLASS" if self.is_singleton(node) => self
                .name(node)
                .map_or_else(|| "singleton class".to_owned(), Cow::into_owned),
            "IMEMO" => match self.text(node) {
                Some(imemo_type) => imemo_description(&imemo_type).to_owned(),
                None => "IMEMO".to_owned(),
            },
            "CLASS" | "MODULE" => {
                let word = if self.kind(node) == "CLASS" {
                    "class"
                } else {
                    "module"
                };
                match self.name(node) {
                    Some(name) => format!("{word} {name}"),
                    None => format!("anonymous {word}"),
                }
            }
            "STRING" => {
                let size = length
                    .map(|n| format!(" ({})", human_bytes(n)))
                    .unwrap_or_default();
                match self.text(node) {
                    Some(head) => {
                        let cut = length.is_some_and(|n| n as usize > head.len());
                        format!("String {:?}{}{size}", head, if cut { "…" } else { "" }).replacen(
                            "\"…",
                            "…\"",
                            usize::from(cut),
                        )
                    }
                    None => format!("String{size}"),
                }
            }
            "HASH" => counted(
                class_name.as_deref().unwrap_or("Hash"),
                length,
                "entry",
                "entries",
            ),
            "ARRAY" => counted(
                class_name.as_deref().unwrap_or("Array"),
                length,
                "item",
                "items",
            ),
            "DATA" => match (class_name, self.text(node)) {
                (_, Some(c_type)) if c_type == "VM/thread" && self.thread_name(node).is_some() => {
                    format!("Thread {:?}", self.thread_name(node).unwrap_or_default())
                }
                (Some(class), Some(c_type)) => format!("{class} ({c_type})"),
                (Some(class), None) => class.into_owned(),
                (None, Some(c_type)) => format!("DATA ({c_type})"),
                (None, None) => "DATA".to_owned(),
            },
            kind => match class_name {
                Some(class) if kind == "OBJECT" => class.into_owned(),
                Some(class) => format!("{class} ({kind})"),
                None => kind.to_owned(),
            },
        }
    }
}

/// What Ruby's internal IMEMO records are, for people (`imemo_type`s of
/// dump-format.md).
fn imemo_description(imemo_type: &str) -> &str {
    match imemo_type {
        "env" => "local variables (env)",
        "cref" => "constant scope (cref)",
        "svar" => "special variables (svar)",
        "throw_data" => "throw data",
        "ifunc" => "C block (ifunc)",
        "memo" => "memo",
        "ment" => "method entry",
        "iseq" => "instruction sequence",
        "tmpbuf" | "alloc" => "temporary buffer",
        "ast" => "syntax tree",
        "parser_strterm" => "parser string term",
        "callinfo" => "call info",
        "callcache" => "call cache",
        "constcache" => "constant cache",
        "fields" => "instance variables (fields)",
        "cvar_entry" => "class variable entry",
        "subclasses" => "subclass list",
        "cdhash" => "case/when table",
        other => other,
    }
}

/// `Hash (1 entry)`, `Hash (4000 entries)`, or the bare name.
fn counted(name: &str, count: Option<u64>, one: &str, many: &str) -> String {
    match count {
        Some(1) => format!("{name} (1 {one})"),
        Some(n) => format!("{name} ({n} {many})"),
        None => name.to_owned(),
    }
}
