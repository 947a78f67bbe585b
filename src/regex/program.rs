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

impl Program {
    pub(super) fn compile(node: &Node) -> Result<Program, String> {
        let mut program = Program {
            insts: Vec::new(),
            anchored: false,
        };
        program.emit_node(node)?;
        program.push(Inst::Match)?;
        program.anchored = program.starts_anchored();
        Ok(program)
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

    fn push(&mut self, inst: Inst) -> Result<usize, String> {
        if self.insts.len() >= MAX_INSTRUCTIONS {
            return Err("the pattern is too large (its counted repetitions copy too much)".into());
        }
        self.insts.push(inst);
        Ok(self.insts.len() - 1)
    }

    fn emit_node(&mut self, node: &Node) -> Result<(), String> {
        match node {
            Node::Empty => {}
            Node::Class(class) => {
                self.push(Inst::Class(class.clone()))?;
            }
            Node::Look(look) => {
                self.push(Inst::Look(*look))?;
            }
            Node::Concat(items) => {
                for item in items {
                    self.emit_node(item)?;
                }
            }
            Node::Alt(alternatives) => self.emit_alternatives(alternatives)?,
            Node::Repeat { node, min, max } => self.emit_repeat(node, *min, *max)?,
        }
        Ok(())
    }

    /// `Split(a, next) a Jump(end) next: Split(b, …) b Jump(end) … last end:`.
    fn emit_alternatives(&mut self, alternatives: &[Node]) -> Result<(), String> {
        let mut jumps = Vec::new();
        for (i, alternative) in alternatives.iter().enumerate() {
            if i + 1 == alternatives.len() {
                self.emit_node(alternative)?;
                break;
            }
            let split = self.push(Inst::Split(0, 0))?;
            self.emit_node(alternative)?;
            jumps.push(self.push(Inst::Jump(0))?);
            let next = self.insts.len();
            self.insts[split] = Inst::Split(split + 1, next);
        }
        let end = self.insts.len();
        for jump in jumps {
            self.insts[jump] = Inst::Jump(end);
        }
        Ok(())
    }

    fn emit_repeat(&mut self, node: &Node, min: u32, max: Option<u32>) -> Result<(), String> {
        for _ in 0..min {
            self.emit_node(node)?;
        }
        match max {
            // `loop: Split(body, end) body Jump(loop) end:`
            None => {
                let split = self.push(Inst::Split(0, 0))?;
                self.emit_node(node)?;
                self.push(Inst::Jump(split))?;
                let end = self.insts.len();
                self.insts[split] = Inst::Split(split + 1, end);
            }
            // Each optional copy: `Split(body, end) body`, all skipping to the end.
            Some(max) => {
                let mut splits = Vec::new();
                for _ in min..max {
                    splits.push(self.push(Inst::Split(0, 0))?);
                    self.emit_node(node)?;
                }
                let end = self.insts.len();
                for split in splits {
                    self.insts[split] = Inst::Split(split + 1, end);
                }
            }
        }
        Ok(())
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
