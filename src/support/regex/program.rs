//! The compiled pattern, a list of instructions, and its run over a text: a Pike VM that steps
//! every live thread one character at a time, so a match takes time linear in the text.

use super::parse::{Class, Look, Node};

/// More instructions than this (counted repetitions copy their body) is refused.
const MAX_INSTRUCTIONS: usize = 20_000;

#[derive(Debug, Clone)]
enum Inst {
    /// One character of this class, then the next instruction.
    Class(Class),
    Look(Look),
    /// Continue at both.
    Split(usize, usize),
    Jump(usize),
    Match,
}

#[derive(Debug, Clone)]
pub(super) struct Program {
    insts: Vec<Inst>,
    /// Every match starts at the start of the text (`^…`): once no thread is left, none can
    /// start later, and the rest of the text is not read.
    anchored: bool,
}

/// Whether the program of `node` stays within [`MAX_INSTRUCTIONS`], found without building it:
/// checking a pattern is then cheap, and only a pattern in use is compiled.
pub(super) fn check_size(node: &Node) -> Result<(), String> {
    match size(node).saturating_add(1) <= MAX_INSTRUCTIONS {
        true => Ok(()),
        false => Err("the pattern is too large (its counted repetitions copy too much)".into()),
    }
}

/// How many instructions `node` compiles to (saturating: counts multiply when nested).
fn size(node: &Node) -> usize {
    match node {
        Node::Empty => 0,
        Node::Class(_) | Node::Look(_) => 1,
        Node::Concat(items) => items.iter().map(size).fold(0, usize::saturating_add),
        // Every alternative but the last adds a Split and a Jump.
        Node::Alt(alternatives) => {
            let with_jumps = alternatives.iter().map(|item| size(item).saturating_add(2));
            with_jumps.fold(0usize, usize::saturating_add).saturating_sub(2)
        }
        Node::Repeat { node, min, max } => {
            let body = size(node);
            let copies = body.saturating_mul(*min as usize);
            let rest = match max {
                None => body.saturating_add(2),
                Some(max) => body.saturating_add(1).saturating_mul((max - min) as usize),
            };
            copies.saturating_add(rest)
        }
    }
}

impl Program {
    /// The program of `node`, whose size [`check_size`] accepted.
    pub(super) fn compile(node: &Node) -> Program {
        let mut program = Program {
            insts: Vec::new(),
            anchored: false,
        };
        program.emit_node(node);
        program.insts.push(Inst::Match);
        debug_assert_eq!(
            program.insts.len(),
            size(node) + 1,
            "check_size counts what compile emits"
        );
        program.anchored = program.starts_anchored();
        program
    }

    /// Whether every path from the first instruction meets `^` before it reads a character or
    /// matches.
    fn starts_anchored(&self) -> bool {
        let mut seen = vec![false; self.insts.len()];
        let mut stack = vec![0];
        while let Some(pc) = stack.pop() {
            if std::mem::replace(&mut seen[pc], true) {
                continue;
            }
            match &self.insts[pc] {
                Inst::Look(Look::Start) => {}
                Inst::Look(_) => stack.push(pc + 1),
                Inst::Jump(to) => stack.push(*to),
                Inst::Split(first, second) => stack.extend([*first, *second]),
                Inst::Class(_) | Inst::Match => return false,
            }
        }
        true
    }

    fn push(&mut self, inst: Inst) -> usize {
        self.insts.push(inst);
        self.insts.len() - 1
    }

    fn emit_node(&mut self, node: &Node) {
        match node {
            Node::Empty => {}
            Node::Class(class) => {
                self.push(Inst::Class(class.clone()));
            }
            Node::Look(look) => {
                self.push(Inst::Look(*look));
            }
            Node::Concat(items) => {
                for item in items {
                    self.emit_node(item);
                }
            }
            Node::Alt(alternatives) => self.emit_alternatives(alternatives),
            Node::Repeat { node, min, max } => self.emit_repeat(node, *min, *max),
        }
    }

    /// `Split(a, next) a Jump(end) next: Split(b, …) b Jump(end) … last end:`.
    fn emit_alternatives(&mut self, alternatives: &[Node]) {
        let mut jumps = Vec::new();
        for (i, alternative) in alternatives.iter().enumerate() {
            if i + 1 == alternatives.len() {
                self.emit_node(alternative);
                break;
            }
            let split = self.push(Inst::Split(0, 0));
            self.emit_node(alternative);
            jumps.push(self.push(Inst::Jump(0)));
            let next = self.insts.len();
            self.insts[split] = Inst::Split(split + 1, next);
        }
        let end = self.insts.len();
        for jump in jumps {
            self.insts[jump] = Inst::Jump(end);
        }
    }

    fn emit_repeat(&mut self, node: &Node, min: u32, max: Option<u32>) {
        for _ in 0..min {
            self.emit_node(node);
        }
        match max {
            // `loop: Split(body, end) body Jump(loop) end:`
            None => {
                let split = self.push(Inst::Split(0, 0));
                self.emit_node(node);
                self.push(Inst::Jump(split));
                let end = self.insts.len();
                self.insts[split] = Inst::Split(split + 1, end);
            }
            // Each optional copy: `Split(body, end) body`, all skipping to the end.
            Some(max) => {
                let mut splits = Vec::new();
                for _ in min..max {
                    splits.push(self.push(Inst::Split(0, 0)));
                    self.emit_node(node);
                }
                let end = self.insts.len();
                for split in splits {
                    self.insts[split] = Inst::Split(split + 1, end);
                }
            }
        }
    }

    /// Whether the program matches somewhere in `text`.
    pub(super) fn is_match(&self, text: &str) -> bool {
        let mut current = Threads::new(self.insts.len());
        let mut next = Threads::new(self.insts.len());
        let mut stack = Vec::new();
        let mut previous: Option<char> = None;
        let mut chars = text.chars().peekable();
        loop {
            let at = Position {
                previous,
                next: chars.peek().copied(),
            };
            // A thread starts at every position (the match is unanchored), but for `^…` only
            // at the first, and it is over when no thread is left.
            if self.anchored && previous.is_some() {
                if current.len() == 0 {
                    return false;
                }
            } else if self.add(&mut current, 0, at, &mut stack) {
                return true;
            }
            let Some(c) = chars.next() else {
                return false;
            };
            let after = Position {
                previous: Some(c),
                next: chars.peek().copied(),
            };
            next.clear();
            for i in 0..current.len() {
                let pc = current.dense[i];
                if let Inst::Class(class) = &self.insts[pc]
                    && class.contains(c)
                    && self.add(&mut next, pc + 1, after, &mut stack)
                {
                    return true;
                }
            }
            std::mem::swap(&mut current, &mut next);
            previous = Some(c);
        }
    }

    /// Adds the thread at `pc` and every thread it reaches without reading a character;
    /// true when one of them is the match. `stack` is scratch space, empty between calls.
    fn add(&self, threads: &mut Threads, pc: usize, at: Position, stack: &mut Vec<usize>) -> bool {
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !threads.insert(pc) {
                continue;
            }
            match &self.insts[pc] {
                Inst::Match => {
                    stack.clear();
                    return true;
                }
                Inst::Class(_) => {}
                Inst::Jump(to) => stack.push(*to),
                Inst::Split(first, second) => {
                    stack.push(*second);
                    stack.push(*first);
                }
                Inst::Look(look) => {
                    if at.satisfies(*look) {
                        stack.push(pc + 1);
                    }
                }
            }
        }
        false
    }
}

/// Where a thread stands: the characters on either side.
#[derive(Clone, Copy)]
struct Position {
    previous: Option<char>,
    next: Option<char>,
}

impl Position {
    fn satisfies(self, look: Look) -> bool {
        let is_word = |c: Option<char>| c.is_some_and(|c| c == '_' || c.is_ascii_alphanumeric());
        match look {
            Look::Start => self.previous.is_none(),
            Look::End => self.next.is_none(),
            Look::WordBoundary => is_word(self.previous) != is_word(self.next),
            Look::NotWordBoundary => is_word(self.previous) == is_word(self.next),
        }
    }
}

/// A set of instruction indexes, in the order added, cleared in constant time.
struct Threads {
    dense: Vec<usize>,
    sparse: Vec<usize>,
}

impl Threads {
    fn new(capacity: usize) -> Threads {
        Threads {
            dense: Vec::with_capacity(capacity),
            sparse: vec![0; capacity],
        }
    }

    fn len(&self) -> usize {
        self.dense.len()
    }

    fn insert(&mut self, pc: usize) -> bool {
        let slot = self.sparse[pc];
        if slot < self.dense.len() && self.dense[slot] == pc {
            return false;
        }
        self.sparse[pc] = self.dense.len();
        self.dense.push(pc);
        true
    }

    fn clear(&mut self) {
        self.dense.clear();
    }
}
